"""Recompute stored tier history and compare: the numbers people are shown can be checked.

Each assignment keeps the metric values it was scored with (aligned with its run's
metric_keys) and its run keeps its rule book and percentile populations. Scoring those values
again with the pure engine (scoring.engine) must give the stored score to the cent and the
stored computed tier, however the rules have been edited since. Assignments are read in chunks
of a run, a fixed number of queries per chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from scoring import engine
from tiering.models import TierAssignment, TierRun
from tiering.rulebook import Rulebook
from tiering.services.context import run_populations

CHUNK_SIZE = 5000
_COLUMNS = ("id", "customer_id", "customer__code", "score", "computed_tier_id", "profile_id", "metric_values")


@dataclass(frozen=True)
class Mismatch:
    customer_code: str
    run_id: int
    period: str
    stored_score: Decimal
    recomputed_score: Decimal | None  # None: not recomputable (its profile is not in the rule book)
    stored_tier: str
    recomputed_tier: str | None

    def __str__(self) -> str:
        recomputed = "—" if self.recomputed_score is None else self.recomputed_score
        return (
            f"{self.customer_code} run #{self.run_id} ({self.period}): score {self.stored_score} stored, "
            f"{recomputed} recomputed; tier {self.stored_tier} stored, {self.recomputed_tier or '—'} recomputed"
        )


@dataclass
class VerificationSummary:
    runs: int = 0
    assignments: int = 0
    mismatches: int = 0
    runs_without_rulebook: list[int] = field(default_factory=list)


def _cents(value) -> int:
    return int(round(float(value) * 100))


def _chunks(run: TierRun, sample: int | None, rng: np.random.Generator) -> Iterator[list[tuple]]:
    """The run's assignments as rows of _COLUMNS, by customer in chunks (keyset on the
    (run, customer) index), or a random sample of them."""
    assignments = TierAssignment.objects.filter(run=run)
    if sample is not None:
        ids = np.fromiter(assignments.values_list("id", flat=True), dtype=np.int64)
        chosen = np.sort(rng.choice(ids, size=min(sample, len(ids)), replace=False)).tolist()
        for start in range(0, len(chosen), CHUNK_SIZE):
            yield list(assignments.filter(id__in=chosen[start : start + CHUNK_SIZE]).values_list(*_COLUMNS))
        return
    after = 0
    while True:
        rows = list(
            assignments.filter(customer_id__gt=after).order_by("customer_id").values_list(*_COLUMNS)[:CHUNK_SIZE]
        )
        if not rows:
            return
        yield rows
        after = rows[-1][1]


def run_verify(
    run: TierRun, *, sample: int | None = None, rng: np.random.Generator | None = None
) -> Iterator[tuple[int, list[Mismatch]]]:
    """For each chunk of the run's assignments: how many were checked and those that differ.
    The run must have a rule book."""
    rulebook = Rulebook(run.rulebook, frozen=True)
    profiles = {profile.id: profile for profile in rulebook.profile_specs()}
    tiers = rulebook.tiers  # highest first, as engine.tier_indexes orders them
    tier_specs = [engine.TierSpec(code=t.code, rank=t.rank, min_score=float(t.min_score)) for t in tiers]
    tier_ids = np.array([t.id for t in tiers], dtype=np.int64)
    codes = {t.id: t.code for t in tiers}
    populations = run_populations(run.pk)
    keys = list(run.metric_keys)
    for rows in _chunks(run, sample, rng or np.random.default_rng()):
        size = len(rows)
        values = np.full((size, len(keys)), np.nan)
        for row, snapshot in enumerate(r[6] for r in rows):
            width = min(len(snapshot), len(keys))
            values[row, :width] = np.array(snapshot[:width], dtype=float)
        metrics = {key: values[:, column] for column, key in enumerate(keys)}
        profile_ids = np.array([r[5] for r in rows], dtype=np.int64)
        totals = np.full(size, np.nan)
        computed = np.full(size, -1, dtype=np.int64)
        for profile_id in np.unique(profile_ids).tolist():
            profile = profiles.get(profile_id)
            if profile is None:
                continue  # not recomputable: reported below
            mask = profile_ids == profile_id
            group_totals, _points = engine.score_matrix(
                profile, {key: column[mask] for key, column in metrics.items()}, populations
            )
            totals[mask] = group_totals
            computed[mask] = tier_ids[engine.tier_indexes(group_totals, tier_specs)]
        mismatches = []
        for row, (_id, _customer, code, score, tier_id, _profile, _values) in enumerate(rows):
            recomputed = None if np.isnan(totals[row]) else Decimal(_cents(totals[row])).scaleb(-2)
            if recomputed is not None and _cents(score) == _cents(recomputed) and computed[row] == tier_id:
                continue
            mismatches.append(
                Mismatch(
                    customer_code=code,
                    run_id=run.pk,
                    period=run.period,
                    stored_score=score,
                    recomputed_score=recomputed,
                    stored_tier=codes.get(tier_id, str(tier_id)),
                    recomputed_tier=codes.get(int(computed[row])),
                )
            )
        yield size, mismatches


def history_verify(
    *,
    run_id: int | None = None,
    sample: int | None = None,
    report: Callable[[Mismatch], None] = lambda mismatch: None,
    seed: int | None = None,
) -> VerificationSummary:
    """Verify the assignments of every run that wrote history (or of one run, or `sample` random
    assignments of each), calling `report` for each mismatch as it is found. Runs from before
    rule books were kept cannot be verified: they are listed in the summary, not failed."""
    runs = TierRun.objects.filter(dry_run=False).order_by("as_of", "id")
    if run_id is not None:
        runs = runs.filter(pk=run_id)
    rng = np.random.default_rng(seed)
    summary = VerificationSummary()
    for run in runs:
        if not run.rulebook:
            summary.runs_without_rulebook.append(run.pk)
            continue
        summary.runs += 1
        for checked, mismatches in run_verify(run, sample=sample, rng=rng):
            summary.assignments += checked
            summary.mismatches += len(mismatches)
            for mismatch in mismatches:
                report(mismatch)
    return summary
