"""Scoring a metric table with loaded rules: profiles matched per customer, points per rule,
totals and tiers, as arrays. No database access: the specs come from scoring.selectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scoring import engine
from scoring.metrics import MetricTable

if TYPE_CHECKING:  # for type hints only: this module reads no model
    from scoring.models import Tier


@dataclass(frozen=True)
class TierSet:
    """The tiers, highest first, with their database ids beside the pure specs."""

    specs: list[engine.TierSpec]
    ids: np.ndarray  # tier id per spec index
    by_code: dict[str, Tier]


@dataclass
class ScoredTable:
    """Scores for a set of customers, aligned with `table.customer_ids`."""

    table: MetricTable
    tiers: TierSet
    profiles: dict[int, engine.ProfileSpec]
    profile_ids: np.ndarray
    totals: np.ndarray
    tier_index: np.ndarray  # index into tiers.specs
    points: dict[str, np.ndarray]  # per metric; NaN where the customer's profile has no rule for it

    def __len__(self) -> int:
        return len(self.totals)

    @property
    def tier_ids(self) -> np.ndarray:
        return self.tiers.ids[self.tier_index]

    def breakdown(self, index: int) -> list[engine.RulePoints]:
        profile = self.profiles[int(self.profile_ids[index])]
        values = self.table.row(index)
        return [
            engine.RulePoints(
                metric=rule.metric,
                category=rule.category,
                value=values.get(rule.metric),
                points=engine.round_points(float(self.points[rule.metric][index])),
                max_points=rule.weight,
            )
            for rule in profile.rules
        ]


def assign_profiles(table: MetricTable, profiles: list[engine.ProfileSpec]) -> np.ndarray:
    """Profile id per customer; matching runs once per distinct (type, industry) pair, not per customer."""
    result = np.zeros(len(table), dtype=np.int64)
    if not len(table):
        return result
    # Each (type, industry) pair as one integer, so finding the pairs is an integer unique.
    types = sorted({str(value) for value in set(table.customer_type.tolist())})
    type_codes = np.zeros(len(table), dtype=np.int64)
    for code, customer_type in enumerate(types):
        type_codes[table.customer_type == customer_type] = code
    keys = np.asarray(table.industry_id, dtype=np.int64) * len(types) + type_codes
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    chosen = [
        engine.match_profile(types[int(key % len(types))], int(key // len(types)), profiles).id for key in unique_keys
    ]
    return np.asarray(chosen, dtype=np.int64)[inverse.ravel()]


def score_table(
    table: MetricTable,
    *,
    profiles: list[engine.ProfileSpec],
    tiers: TierSet,
    populations: dict[str, np.ndarray] | None = None,
    tier_specs: list[engine.TierSpec] | None = None,
) -> ScoredTable:
    """Score a metric table. `tier_specs` lets a simulation try thresholds that are not saved."""
    profile_ids = assign_profiles(table, profiles)
    by_id = {p.id: p for p in profiles}
    totals = np.zeros(len(table))
    points = {}
    for profile_id in np.unique(profile_ids):
        mask = profile_ids == profile_id
        profile = by_id[int(profile_id)]
        group_totals, group_points = engine.score_matrix(
            profile, {key: values[mask] for key, values in table.metrics.items()}, populations
        )
        totals[mask] = group_totals
        for row, rule in enumerate(profile.rules):
            column = points.setdefault(rule.metric, np.full(len(table), np.nan))
            column[mask] = group_points[row]
    tier_index = engine.tier_indexes(totals, tier_specs or tiers.specs)
    return ScoredTable(
        table=table,
        tiers=tiers,
        profiles=by_id,
        profile_ids=profile_ids,
        totals=totals,
        tier_index=tier_index,
        points=points,
    )


def populations_from(table: MetricTable, profiles: list[engine.ProfileSpec]) -> dict[str, np.ndarray]:
    """Sorted values of the metrics percentile rules use, taken from a table of all active customers."""
    needed = {r.metric for p in profiles for r in p.rules if r.normalisation == "percentile"}
    return {metric: np.sort(values[~np.isnan(values)]) for metric, values in table.metrics.items() if metric in needed}
