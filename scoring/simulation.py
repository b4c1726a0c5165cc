"""What an unsaved rule or threshold change would do, before anyone saves it. Nothing is written.

Both sides are scored on today's data. "Today" is the tier each active customer gets now under
the saved rules and thresholds; "draft" is its tier under the draft. The 5×5 matrix compares
the two, so it shows the change alone: the saved rules simulated unchanged move nobody.

What moved since the last tier run is shown apart, as "drift": from the tier the run stored
(its computed tier, before any manual override) to today's tier. It comes from new orders,
surveys and interactions, and from any rule or threshold saved since the run; it happens
whether or not the draft is saved. Customers never tiered have no drift.

Customers are streamed in id-range chunks as plain arrays, never as model instances.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from crm.models import Customer
from scoring import engine
from scoring.metrics import MetricTable
from scoring.models import Tier
from scoring.selectors import DEFAULT_CHUNK_SIZE, metric_tables_concat, metric_tables_stream, profiles_load, tiers_load
from scoring.tables import TierSet, populations_from, score_table
from scoring.validation import rules_clean


@dataclass(frozen=True)
class TierShare:
    tier: Tier
    min_score_now: float
    min_score_proposed: float
    target_share: float
    count_now: int  # today, saved rules
    count_proposed: int  # today, draft
    share_now: float  # percent of customers
    share_proposed: float


@dataclass(frozen=True)
class TierMoves:
    """Customers per (from tier, to tier): matrix[from index, to index], tiers highest first."""

    tiers: list[Tier]
    matrix: np.ndarray

    @property
    def total(self) -> int:
        return int(self.matrix.sum())

    @property
    def upgrades(self) -> int:
        return int(np.tril(self.matrix, k=-1).sum())  # "to" tier above the "from" tier

    @property
    def downgrades(self) -> int:
        return int(np.triu(self.matrix, k=1).sum())

    @property
    def unchanged(self) -> int:
        return int(np.trace(self.matrix))

    def rows(self) -> list[dict]:
        """The matrix for templates: one row per "from" tier, cells marked up / down / same."""
        result = []
        for source, tier in enumerate(self.tiers):
            cells = [
                {"count": int(count), "move": "same" if target == source else ("up" if target < source else "down")}
                for target, count in enumerate(self.matrix[source])
            ]
            result.append({"tier": tier, "cells": cells, "total": int(self.matrix[source].sum())})
        return result

    def column_totals(self) -> list[int]:
        return [int(value) for value in self.matrix.sum(axis=0)]


@dataclass(frozen=True)
class SimulationResult:
    as_of: datetime.date
    tiers: list[Tier]
    change: TierMoves  # today's tier under the saved rules -> tier under the draft
    drift: TierMoves  # tier stored by the last run -> today's tier under the saved rules
    never_tiered: int  # active customers without a stored tier: in `change`, not in `drift`
    distribution: list[TierShare]

    @property
    def total(self) -> int:
        return self.change.total

    @property
    def matrix(self) -> np.ndarray:
        return self.change.matrix

    @property
    def upgrades(self) -> int:
        return self.change.upgrades

    @property
    def downgrades(self) -> int:
        return self.change.downgrades

    @property
    def unchanged(self) -> int:
        return self.change.unchanged


def migration_matrix(current: np.ndarray, proposed: np.ndarray, size: int) -> np.ndarray:
    """Counts of customers moving from tier index `current` to `proposed` (size x size)."""
    flat = np.asarray(current, dtype=np.int64) * size + np.asarray(proposed, dtype=np.int64)
    return np.bincount(flat, minlength=size * size).reshape(size, size)


def active_customers_table(as_of: datetime.date, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> MetricTable:
    """Metrics of every active customer, computed chunk by chunk and kept as plain arrays."""
    customers = Customer.objects.filter(status=Customer.Status.ACTIVE)
    return metric_tables_concat(list(metric_tables_stream(customers, as_of, chunk_size=chunk_size)), as_of)


def stored_tier_indexes(table: MetricTable, tiers: TierSet) -> np.ndarray:
    """Index of the tier each customer got at the last run (its computed tier); -1 when never tiered."""
    order = np.argsort(tiers.ids)
    sorted_ids = tiers.ids[order]
    positions = np.clip(np.searchsorted(sorted_ids, table.computed_tier_id), 0, len(sorted_ids) - 1)
    found = sorted_ids[positions] == table.computed_tier_id
    return np.where(found, order[positions], -1).astype(np.int64)


def draft_profile_spec(
    *,
    rules: list,
    split: dict,
    profile_id: int | None = None,
    name: str = "",
    version: int = 0,
    customer_type: str = "",
    industry_ids=(),
    is_default: bool = False,
) -> engine.ProfileSpec:
    """A profile that exists only in a form or a request body; its rules must be valid and fit `split`."""
    cleaned, errors = rules_clean(rules, split=split)
    if errors:
        raise DomainError(_("Invalid scoring rules."), code="invalid", fields=errors)

    return engine.ProfileSpec(
        id=profile_id or 0,
        name=name,
        version=version,
        rules=tuple(engine.rule_spec_from(rule) for rule in cleaned),
        customer_type=customer_type or "",
        industry_ids=frozenset(industry_ids),
        is_default=is_default,
    )


def profiles_with_draft(saved: list[engine.ProfileSpec], draft: engine.ProfileSpec | None) -> list[engine.ProfileSpec]:
    """The saved profiles with the draft in place of its saved version (or added, when new or inactive)."""
    if draft is None:
        return saved
    others = [profile for profile in saved if profile.id != draft.id]
    if draft.is_default:
        others = [dataclasses.replace(profile, is_default=False) for profile in others]
    return [*others, draft]


def tier_specs_with(tiers: TierSet, min_scores: dict[str, float]) -> list[engine.TierSpec]:
    """The saved tiers with some thresholds replaced, e.g. {'vip': 92}."""
    return [
        dataclasses.replace(spec, min_score=float(min_scores.get(spec.code, spec.min_score))) for spec in tiers.specs
    ]


def table_score(table, profiles, tiers, tier_specs=None):
    """score_table with percentile populations from the same table, and a clear error when no profile applies."""
    try:
        return score_table(
            table, profiles=profiles, tiers=tiers, populations=populations_from(table, profiles), tier_specs=tier_specs
        )
    except LookupError:
        raise DomainError(
            _("Some customers match no scoring profile and there is no default profile."), code="no_profile"
        ) from None


def simulation_build(
    *,
    as_of: datetime.date,
    tiers: TierSet,
    stored: np.ndarray,
    current: np.ndarray,
    proposed: np.ndarray,
    proposed_specs: list[engine.TierSpec],
) -> SimulationResult:
    """The change (current -> proposed, every customer) and the drift (stored -> current, tiered customers)."""
    ordered = [tiers.by_code[spec.code] for spec in tiers.specs]
    size = len(ordered)
    matrix = migration_matrix(current, proposed, size)
    tiered = stored >= 0
    drift = migration_matrix(stored[tiered], current[tiered], size)
    total = len(current)
    now_counts, proposed_counts = matrix.sum(axis=1), matrix.sum(axis=0)
    proposed_min = {spec.code: spec.min_score for spec in proposed_specs}

    def percent(count):
        return round(100.0 * float(count) / total, 2) if total else 0.0

    distribution = [
        TierShare(
            tier=tier,
            min_score_now=float(tier.min_score),
            min_score_proposed=float(proposed_min.get(tier.code, tier.min_score)),
            target_share=float(tier.target_share),
            count_now=int(now_counts[index]),
            count_proposed=int(proposed_counts[index]),
            share_now=percent(now_counts[index]),
            share_proposed=percent(proposed_counts[index]),
        )
        for index, tier in enumerate(ordered)
    ]
    return SimulationResult(
        as_of=as_of,
        tiers=ordered,
        change=TierMoves(tiers=ordered, matrix=matrix),
        drift=TierMoves(tiers=ordered, matrix=drift),
        never_tiered=int(np.count_nonzero(~tiered)),
        distribution=distribution,
    )


def simulate(
    *,
    as_of: datetime.date,
    draft_profile: engine.ProfileSpec | None = None,
    tier_specs: list[engine.TierSpec] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> SimulationResult:
    """How many active customers would move between each pair of tiers under a draft profile
    and/or draft thresholds (same tiers, other `min_score`s), both scored on today's data.
    Writes nothing. A draft profile costs a second scoring pass over the same metric table; a
    threshold draft re-maps the same totals."""
    tiers = tiers_load()
    saved_profiles = profiles_load()
    proposed_specs = tier_specs or tiers.specs
    if sorted(spec.code for spec in proposed_specs) != sorted(spec.code for spec in tiers.specs):
        raise DomainError(_("A simulation can change thresholds, not the set of tiers."), code="invalid")

    table = active_customers_table(as_of, chunk_size=chunk_size)
    saved = table_score(table, saved_profiles, tiers)
    if draft_profile is None:
        totals = saved.totals
    else:
        totals = table_score(table, profiles_with_draft(saved_profiles, draft_profile), tiers).totals
    return simulation_build(
        as_of=as_of,
        tiers=tiers,
        stored=stored_tier_indexes(table, tiers),
        current=saved.tier_index,
        proposed=engine.tier_indexes(totals, proposed_specs),
        proposed_specs=proposed_specs,
    )
