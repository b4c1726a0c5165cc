"""Suggest thresholds that would give each tier its target share of customers on current data.

The suggestion is only shown; an administrator applies it (through `tiers_update`) or not.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from scoring import engine
from scoring.selectors import DEFAULT_CHUNK_SIZE, profiles_load, tiers_load
from scoring.simulation import (
    SimulationResult,
    active_customers_table,
    simulation_build,
    stored_tier_indexes,
    table_score,
    tier_specs_with,
)

STEP = 0.01  # thresholds have two decimals, like totals


def thresholds_for_shares(totals: np.ndarray, target_shares: list[float], lowest_min_score: float) -> list[float]:
    """Thresholds (highest tier first, one per tier above the lowest) so that about the target
    percentage of `totals` reaches each tier. Customers on the same score stay together, so
    ties can push a tier above its share. Thresholds fall strictly and stay above the lowest
    tier's minimum."""
    totals = np.sort(np.asarray(totals, dtype=float))[::-1]
    size = len(totals)
    thresholds: list[float] = []
    cumulative = 0.0
    above = len(target_shares) - 1
    for position, share in enumerate(target_shares[:-1]):
        cumulative += float(share)
        reach = int(round(size * cumulative / 100.0))
        if size == 0:
            threshold = engine.MAX_TOTAL - STEP * position
        elif reach <= 0:
            threshold = min(engine.MAX_TOTAL, totals[0] + STEP)
        else:
            threshold = totals[min(reach, size) - 1]
        if thresholds:
            threshold = min(threshold, thresholds[-1] - STEP)
        floor = lowest_min_score + STEP * (above - position)
        thresholds.append(round(float(max(threshold, floor)), 2))
    return thresholds


@dataclass(frozen=True)
class Calibration:
    suggested: dict[str, float]  # tier code -> suggested minimum score (the lowest tier keeps its own)
    simulation: SimulationResult  # today's tiers -> tiers under the suggested thresholds; drift apart


def calibration_suggest(*, as_of: datetime.date, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Calibration:
    """Quantiles of today's scores (saved rules, active customers) at the tiers' target shares.

    Its moves compare today's tiers under the saved thresholds with the suggested ones, so they
    show what applying the suggestion changes; drift since the last run is kept apart."""
    tiers = tiers_load()
    profiles = profiles_load()
    table = active_customers_table(as_of, chunk_size=chunk_size)
    scored = table_score(table, profiles, tiers)
    ordered = [tiers.by_code[spec.code] for spec in tiers.specs]
    thresholds = thresholds_for_shares(
        scored.totals, [float(t.target_share) for t in ordered], float(ordered[-1].min_score)
    )
    suggested = {tier.code: value for tier, value in zip(ordered, thresholds, strict=False)}
    specs = tier_specs_with(tiers, suggested)
    simulation = simulation_build(
        as_of=as_of,
        tiers=tiers,
        stored=stored_tier_indexes(table, tiers),
        current=scored.tier_index,
        proposed=engine.tier_indexes(scored.totals, specs),
        proposed_specs=specs,
    )
    return Calibration(suggested=suggested, simulation=simulation)
