"""The arithmetic of the method: metric values -> points per rule -> 0-100 total -> tier.

Plain values and NumPy arrays only: no ORM, no clock. The same vectorised code scores one
customer (arrays of length 1) and a million, so the detail page and a tier run always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

MAX_TOTAL = 100.0
_EPS = 1e-9


@dataclass(frozen=True)
class RuleSpec:
    metric: str
    category: str  # quantitative | qualitative | bonus
    weight: float
    normalisation: str = "linear"  # linear | bands | percentile
    floor: float | None = None
    cap: float | None = None
    bands: tuple[tuple[float, float], ...] = ()  # ascending (threshold, share of weight)
    direction: str = "higher"  # higher | lower
    missing_value: float | None = None


def rule_spec_from(values: Mapping) -> RuleSpec:
    """A rule as stored or cleaned (Decimals, None for a blank, bands as [threshold, share] pairs)."""

    def number(value):
        return None if value is None else float(value)

    return RuleSpec(
        metric=values["metric"],
        category=values["category"],
        weight=float(values["weight"]),
        normalisation=values["normalisation"],
        floor=number(values["floor"]),
        cap=number(values["cap"]),
        bands=tuple((float(threshold), float(share)) for threshold, share in (values["bands"] or [])),
        direction=values["direction"],
        missing_value=number(values["missing_value"]),
    )


@dataclass(frozen=True)
class ProfileSpec:
    id: int
    name: str
    version: int
    rules: tuple[RuleSpec, ...]
    customer_type: str = ""
    industry_ids: frozenset[int] = field(default_factory=frozenset)
    is_default: bool = False

    @property
    def metrics(self) -> set[str]:
        return {rule.metric for rule in self.rules}


@dataclass(frozen=True)
class TierSpec:
    code: str
    rank: int
    min_score: float


@dataclass(frozen=True)
class RulePoints:
    metric: str
    category: str
    value: float | None
    points: float
    max_points: float


@dataclass(frozen=True)
class ScoreResult:
    total: float
    tier: str
    rules: tuple[RulePoints, ...]

    def points_by_metric(self) -> dict[str, float]:
        return {rule.metric: rule.points for rule in self.rules}


def round_total(totals: np.ndarray) -> np.ndarray:
    """Round half up to 2 decimals (68.125 -> 68.13), immune to binary-float ties."""
    return np.floor(np.asarray(totals, dtype=float) * 100.0 + 0.5 + _EPS) / 100.0


def round_points(value: float) -> float:
    """One figure rounded like totals are, so a breakdown never disagrees with its total (13.125 -> 13.13)."""
    return float(round_total(np.array([value]))[0])


def _fill_missing(rule: RuleSpec, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    if not missing.any():
        return values
    if rule.missing_value is not None:
        fallback = rule.missing_value
    elif rule.normalisation == "linear" and rule.floor is not None:
        fallback = rule.floor if rule.direction == "higher" else (rule.cap if rule.cap is not None else 0.0)
    else:
        fallback = np.nan  # earns nothing below
    return np.where(missing, fallback, values)


def _share_linear(rule: RuleSpec, values: np.ndarray) -> np.ndarray:
    floor = 0.0 if rule.floor is None else float(rule.floor)
    cap = float(rule.cap)
    share = (values - floor) / (cap - floor)
    if rule.direction == "lower":
        share = 1.0 - share
    return np.clip(share, 0.0, 1.0)


def _share_bands(rule: RuleSpec, values: np.ndarray) -> np.ndarray:
    """Higher is better: the share of the highest band reached (value >= threshold).
    Lower is better: the share of the highest band the value stays within (value <= threshold)."""
    share = np.zeros_like(values)
    for threshold, band_share in rule.bands:
        reached = values + _EPS >= threshold if rule.direction == "higher" else values - _EPS <= threshold
        share = np.where(reached, np.maximum(share, band_share), share)
    return np.clip(share, 0.0, 1.0)


def _share_percentile(rule: RuleSpec, values: np.ndarray, population: np.ndarray | None) -> np.ndarray:
    """Share = fraction of the run's customers whose value is at or below this one."""
    reference = np.sort(values[~np.isnan(values)]) if population is None else np.asarray(population, dtype=float)
    if reference.size == 0:
        return np.zeros_like(values)
    side = "right" if rule.direction == "higher" else "left"
    at_or_below = np.searchsorted(reference, values, side=side) / reference.size
    share = at_or_below if rule.direction == "higher" else 1.0 - at_or_below
    # A customer with no value (and no fallback) earns nothing; NaN would otherwise sort above everyone.
    return np.where(np.isnan(values), 0.0, np.clip(share, 0.0, 1.0))


def rule_points(rule: RuleSpec, values: np.ndarray, population: np.ndarray | None = None) -> np.ndarray:
    """Points one rule gives each customer. `population` is the sorted reference for percentile rules."""
    values = _fill_missing(rule, values)
    if rule.normalisation == "linear":
        share = _share_linear(rule, values)
    elif rule.normalisation == "bands":
        share = _share_bands(rule, values)
    elif rule.normalisation == "percentile":
        share = _share_percentile(rule, values, population)
    else:
        raise ValueError(f"unknown normalisation {rule.normalisation!r}")
    return np.nan_to_num(share, nan=0.0) * float(rule.weight)


def score_matrix(
    profile: ProfileSpec,
    metrics: dict[str, np.ndarray],
    populations: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Totals (rounded, capped at 100) and the points matrix (one row per rule) for many customers."""
    populations = populations or {}
    size = len(next(iter(metrics.values()))) if metrics else 0
    points = np.zeros((len(profile.rules), size))
    for row, rule in enumerate(profile.rules):
        values = metrics.get(rule.metric)
        if values is None:
            values = np.full(size, np.nan)
        points[row] = rule_points(rule, values, populations.get(rule.metric))
    totals = round_total(np.minimum(points.sum(axis=0), MAX_TOTAL))
    return totals, points


def tier_indexes(totals: np.ndarray, tiers: list[TierSpec]) -> np.ndarray:
    """Index into `tiers` (sorted by rank, highest first) of the tier each total reaches.
    A total exactly on a threshold belongs to the higher tier; the lowest tier catches the rest."""
    ordered = sorted(tiers, key=lambda tier: tier.rank)
    result = np.full(len(totals), len(ordered) - 1, dtype=np.int64)
    for index in range(len(ordered) - 2, -1, -1):
        result = np.where(np.asarray(totals) + _EPS >= ordered[index].min_score, index, result)
    return result


def tier_for_total(total: float, tiers: list[TierSpec]) -> str:
    ordered = sorted(tiers, key=lambda tier: tier.rank)
    return ordered[int(tier_indexes(np.array([total]), ordered)[0])].code


def score_one(
    profile: ProfileSpec,
    metrics: dict[str, float | None],
    tiers: list[TierSpec],
    populations: dict[str, np.ndarray] | None = None,
) -> ScoreResult:
    """Score a single customer with its per-rule breakdown (value, points earned, points possible)."""
    arrays = {key: np.array([np.nan if value is None else float(value)]) for key, value in metrics.items()}
    totals, points = score_matrix(profile, arrays, populations)
    breakdown = tuple(
        RulePoints(
            metric=rule.metric,
            category=rule.category,
            value=metrics.get(rule.metric),
            points=round_points(float(points[row][0])),
            max_points=float(rule.weight),
        )
        for row, rule in enumerate(profile.rules)
    )
    total = float(totals[0])
    return ScoreResult(total=total, tier=tier_for_total(total, tiers), rules=breakdown)


def match_profile(customer_type: str, industry_id: int | None, profiles: list[ProfileSpec]) -> ProfileSpec:
    """The most specific profile wins: type+industry, then industry, then type, then the default."""

    def specificity(profile: ProfileSpec) -> int | None:
        if profile.customer_type and profile.customer_type != customer_type:
            return None
        if profile.industry_ids and industry_id not in profile.industry_ids:
            return None
        return (2 if profile.industry_ids else 0) + (1 if profile.customer_type else 0)

    candidates = [(specificity(p), p) for p in profiles]
    candidates = [(s, p) for s, p in candidates if s is not None and (s > 0 or p.is_default)]
    if not candidates:
        raise LookupError("no scoring profile applies and there is no default profile")
    return max(candidates, key=lambda item: (item[0], -item[1].id))[1]
