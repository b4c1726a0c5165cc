"""What an unsaved rule or threshold change would do, before anyone saves it. Nothing is written.

"Current tier" is the tier each active customer holds from the last tier run (its computed
tier, before any manual override); a customer never tiered yet counts with the tier the
saved rules give it today. "Proposed tier" is the tier under the draft rules/thresholds.
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
    count_now: int
    count_proposed: int
    share_now: float  # percent of customers
    share_proposed: float


@dataclass(frozen=True)
class SimulationResult:
    as_of: datetime.date
    total: int
    never_tiered: int
    tiers: list[Tier]
    matrix: np.ndarray  # matrix[current index, proposed index] = customers, tiers highest first
    distribution: list[TierShare]

    @property
    def upgrades(self) -> int:
        return int(np.tril(self.matrix, k=-1).sum())  # proposed tier above the current one

    @property
    def downgrades(self) -> int:
        return int(np.triu(self.matrix, k=1).sum())

    @property
    def unchanged(self) -> int:
        return int(np.trace(self.matrix))

    def rows(self) -> list[dict]:
        """The matrix for templates: one row per current tier, cells marked up / down / same."""
        result = []
        for current, tier in enumerate(self.tiers):
            cells = [
                {
                    "count": int(count),
                    "move": "same" if proposed == current else ("up" if proposed < current else "down"),
                }
                for proposed, count in enumerate(self.matrix[current])
            ]
            result.append({"tier": tier, "cells": cells, "total": int(self.matrix[current].sum())})
        return result

    def column_totals(self) -> list[int]:
        return [int(value) for value in self.matrix.sum(axis=0)]


def migration_matrix(current: np.ndarray, proposed: np.ndarray, size: int) -> np.ndarray:
    """Counts of customers moving from tier index `current` to `proposed` (size x size)."""
    flat = np.asarray(current, dtype=np.int64) * size + np.asarray(proposed, dtype=np.int64)
    return np.bincount(flat, minlength=size * size).reshape(size, size)


def active_customers_table(as_of: datetime.date, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> MetricTable:
    """Metrics of every active customer, computed chunk by chunk and kept as plain arrays."""
    customers = Customer.objects.filter(status=Customer.Status.ACTIVE)
    return metric_tables_concat(list(metric_tables_stream(customers, as_of, chunk_size=chunk_size)), as_of)


def current_tier_indexes(table: MetricTable, tiers: TierSet, saved_index: np.ndarray) -> np.ndarray:
    """Index of each customer's computed tier; the saved-rules tier for customers never tiered."""
    lookup = {int(tier_id): index for index, tier_id in enumerate(tiers.ids)}
    known = np.array([lookup.get(int(tier_id), -1) for tier_id in table.computed_tier_id], dtype=np.int64)
    return np.where(known >= 0, known, saved_index)


def draft_profile_spec(
    *,
    rules: list,
    profile_id: int | None = None,
    name: str = "",
    version: int = 0,
    customer_type: str = "",
    industry_ids=(),
    is_default: bool = False,
) -> engine.ProfileSpec:
    """A profile that exists only in a form or a request body; its rules must be valid."""
    cleaned, errors = rules_clean(rules)
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
    current: np.ndarray,
    proposed: np.ndarray,
    proposed_specs: list[engine.TierSpec],
    never_tiered: int,
) -> SimulationResult:
    ordered = [tiers.by_code[spec.code] for spec in tiers.specs]
    size = len(ordered)
    total = len(current)
    matrix = migration_matrix(current, proposed, size)
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
        as_of=as_of, total=total, never_tiered=never_tiered, tiers=ordered, matrix=matrix, distribution=distribution
    )


def simulate(
    *,
    as_of: datetime.date,
    draft_profile: engine.ProfileSpec | None = None,
    tier_specs: list[engine.TierSpec] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> SimulationResult:
    """How many active customers would move between each pair of tiers under a draft profile
    and/or draft thresholds (same tiers, other `min_score`s). Writes nothing."""
    tiers = tiers_load()
    saved_profiles = profiles_load()
    proposed_profiles = profiles_with_draft(saved_profiles, draft_profile)
    proposed_specs = tier_specs or tiers.specs
    if sorted(spec.code for spec in proposed_specs) != sorted(spec.code for spec in tiers.specs):
        raise DomainError(_("A simulation can change thresholds, not the set of tiers."), code="invalid")

    table = active_customers_table(as_of, chunk_size=chunk_size)
    saved = table_score(table, saved_profiles, tiers)
    totals = saved.totals if draft_profile is None else table_score(table, proposed_profiles, tiers).totals
    proposed_index = engine.tier_indexes(totals, proposed_specs)
    return simulation_build(
        as_of=as_of,
        tiers=tiers,
        current=current_tier_indexes(table, tiers, saved.tier_index),
        proposed=proposed_index,
        proposed_specs=proposed_specs,
        never_tiered=int(np.count_nonzero(table.computed_tier_id < 0)),
    )
