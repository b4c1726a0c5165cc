"""Weights that would have ranked customers better by what they did next, within the method's limits.

Pure: NumPy arrays in, plain values out. The search is SciPy's differential evolution (a
derivative-free global search: rank-based objectives are step functions of the weights, so a
gradient method has nothing to follow). Every candidate it tries is first made admissible:

1. each weight inside the administrator's bounds (default 0 to twice its current value);
2. the rules of each scored category adding up to the profile's split (60 / 40 by default),
   by the Euclidean projection onto {sum = split, low <= w <= high};
3. whole or half points, rounded so that each category still adds up to its split.

So the search only ever scores weights an administrator could save. The fit sample is split in
two: the search runs on one part, and the other part decides whether the gain is real (a
bootstrap of the gain must stay above zero) or noise, in which case the current weights are kept.
docs/backtest.md explains the method in words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _
from scipy.optimize import differential_evolution
from scipy.stats import rankdata

from scoring import engine

OBJECTIVES = ("rank_correlation", "top_share")
STEP = 0.5  # weights in whole or half points
CENTS = 100  # totals are rounded to 0.01
SCORE_BINS = int(engine.MAX_TOTAL * CENTS) + 1
# A small price per point moved (L1, in objective units), so that among near-equal candidates
# the search prefers the one closest to the current weights.
MOVE_PRICE = 0.0002
HOLDOUT_SHARE = 1 / 3
BOOTSTRAP_ROUNDS = 200
# Below this gain on the held-out part (0.005 of rank correlation, or half a point of spend
# share), a change is not worth an administrator's attention.
MATERIAL_GAIN = 0.005


@dataclass(frozen=True)
class Bound:
    metric: str
    category: str  # quantitative | qualitative | bonus
    current: float
    low: float
    high: float


def default_bounds(rules: Sequence[engine.RuleSpec]) -> list[Bound]:
    """0 to twice the current weight, for every rule."""
    return [Bound(r.metric, r.category, float(r.weight), 0.0, 2.0 * float(r.weight)) for r in rules]


def half_points(value: float) -> bool:
    return abs(value / STEP - round(value / STEP)) < 1e-9


def bounds_problems(bounds: Sequence[Bound], split: dict[str, float]) -> list[str]:
    """Why these bounds cannot give weights that fit the split; empty when they can. Plain words,
    for the field `bounds`."""
    problems = []
    for bound in bounds:
        if bound.low < 0 or bound.high < bound.low:
            problems.append(
                _("%(metric)s: the bounds must satisfy 0 <= low <= high (they are %(low)s to %(high)s).")
                % {"metric": bound.metric, "low": _plain(bound.low), "high": _plain(bound.high)}
            )
        elif np.floor(bound.high / STEP + 1e-9) < np.ceil(bound.low / STEP - 1e-9):
            problems.append(
                _("%(metric)s: no whole or half point lies between %(low)s and %(high)s.")
                % {"metric": bound.metric, "low": _plain(bound.low), "high": _plain(bound.high)}
            )
    if problems:
        return problems
    for category, points in split.items():
        members = [b for b in bounds if b.category == category]
        if not members:
            continue
        if not half_points(points):
            problems.append(
                _(
                    "The split's %(points)s points are not whole or half points, so no half-point weights add up to them."
                )
                % {"points": _plain(points)}
            )
            continue
        low = sum(_snap_up(b.low) for b in members)
        high = sum(_snap_down(b.high) for b in members)
        if not low - 1e-9 <= points <= high + 1e-9:
            problems.append(_split_unreachable(category, low, high, points))
    return problems


def _split_unreachable(category: str, low: float, high: float, points: float) -> str:
    """One whole sentence per category, so each reads naturally once translated."""
    if category == "quantitative":
        message = _(
            "The quantitative rules' bounds allow %(low)s to %(high)s points in all, but the split gives "
            "quantitative %(points)s."
        )
    else:
        message = _(
            "The qualitative rules' bounds allow %(low)s to %(high)s points in all, but the split gives "
            "qualitative %(points)s."
        )
    return message % {"low": _plain(low), "high": _plain(high), "points": _plain(points)}


def _plain(value: float) -> str:
    return f"{value:g}"


def _snap_up(value: float) -> float:
    return float(np.ceil(value / STEP - 1e-9) * STEP)


def _snap_down(value: float) -> float:
    return float(np.floor(value / STEP + 1e-9) * STEP)


class WeightSpace:
    """Maps the search's unit cube onto admissible weights (bounds, split, half points)."""

    def __init__(self, bounds: Sequence[Bound], split: dict[str, float]):
        self.bounds = list(bounds)
        self.low = np.array([_snap_up(b.low) for b in bounds])
        self.high = np.array([_snap_down(b.high) for b in bounds])
        self.current = np.array([b.current for b in bounds])
        self.groups = [
            (np.array([i for i, b in enumerate(bounds) if b.category == category]), float(points))
            for category, points in split.items()
            if any(b.category == category for b in bounds)
        ]
        grouped = {int(i) for members, _points in self.groups for i in members}
        self.free = np.array([i for i in range(len(bounds)) if i not in grouped], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.bounds)

    def unit_of(self, weights: np.ndarray) -> np.ndarray:
        """A point of the unit cube that maps back onto `weights` (admissible ones)."""
        span = self.high - self.low
        return np.where(span > 0, (np.asarray(weights, dtype=float) - self.low) / np.where(span > 0, span, 1), 0.0)

    def weights(self, unit: np.ndarray) -> np.ndarray:
        """Admissible weights for each column of `unit` (k x m), as a k x m array."""
        unit = np.clip(np.atleast_2d(np.asarray(unit, dtype=float).T).T, 0.0, 1.0)
        raw = self.low[:, None] + unit * (self.high - self.low)[:, None]
        result = np.empty_like(raw)
        for members, points in self.groups:
            result[members] = _round_to_sum(
                _project(raw[members], self.low[members], self.high[members], points),
                self.low[members],
                self.high[members],
                points,
            )
        if len(self.free):
            result[self.free] = np.clip(
                np.round(raw[self.free] / STEP) * STEP, self.low[self.free, None], self.high[self.free, None]
            )
        return result


def _project(raw: np.ndarray, low: np.ndarray, high: np.ndarray, total: float) -> np.ndarray:
    """Closest point (per column) with low <= w <= high and sum(w) = total: w = clip(raw - shift),
    the shift found by bisection (the sum falls as the shift grows)."""
    below = (raw - high[:, None]).min(axis=0) - 1.0
    above = (raw - low[:, None]).max(axis=0) + 1.0
    for _round in range(60):
        middle = (below + above) / 2
        sums = np.clip(raw - middle, low[:, None], high[:, None]).sum(axis=0)
        too_much = sums > total
        below = np.where(too_much, middle, below)
        above = np.where(too_much, above, middle)
    return np.clip(raw - (below + above) / 2, low[:, None], high[:, None])


def _round_to_sum(weights: np.ndarray, low: np.ndarray, high: np.ndarray, total: float) -> np.ndarray:
    """Half points per column, still adding up to `total` and within bounds (largest remainders go up)."""
    units = weights / STEP
    floor = np.floor(units + 1e-9)
    floor = np.clip(floor, (low / STEP)[:, None], (high / STEP)[:, None])
    missing = np.rint(total / STEP - floor.sum(axis=0)).astype(np.int64)
    remainder = np.where(floor + 1 <= (high / STEP)[:, None] + 1e-9, units - floor, -np.inf)
    order = np.argsort(-remainder, axis=0, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(len(weights))[:, None].repeat(weights.shape[1], axis=1), axis=0)
    floor += (ranks < missing[None, :]) & np.isfinite(remainder)
    return floor * STEP


class Objective:
    """The figure to maximise, for many candidate weight vectors at once.

    rank_correlation: Spearman's correlation of total and next-period spend.
    top_share: share of next-period spend held by the `top_fraction` highest totals (ties in proportion)."""

    def __init__(self, name: str, shares: np.ndarray, spend: np.ndarray, *, top_fraction: float):
        if name not in OBJECTIVES:
            raise ValueError(f"unknown objective {name!r}")
        self.name = name
        self.shares = np.asarray(shares, dtype=float)  # customers x rules: the share of each rule's weight earned
        self.spend = np.asarray(spend, dtype=float)
        self.top_fraction = top_fraction
        size = len(self.spend)
        self.size = size
        if name == "rank_correlation":
            ranks = _average_ranks(self.spend)
            centred = ranks - ranks.mean()
            norm = np.sqrt((centred**2).sum())
            self.spend_z = centred / norm if norm > 0 else np.zeros(size)
        self.total_spend = float(self.spend.sum())

    def cents(self, weights: np.ndarray) -> np.ndarray:
        """Totals in cents (customers x candidates), capped at 100 and rounded as the engine does."""
        raw = np.minimum(self.shares @ weights, engine.MAX_TOTAL)
        return np.floor(raw * CENTS + 0.5 + 1e-9).astype(np.int64)

    def values(self, weights: np.ndarray) -> np.ndarray:
        weights = np.atleast_2d(np.asarray(weights, dtype=float).T).T
        cents = self.cents(weights)
        if self.size < 3:
            return np.zeros(weights.shape[1])
        if self.name == "rank_correlation":
            return self._rank_correlation(cents)
        return self._top_share(cents)

    def _bins(self, cents: np.ndarray, weights_per_customer=None) -> np.ndarray:
        """Per candidate, counts (or spend) per total in cents: candidates x SCORE_BINS."""
        candidates = cents.shape[1]
        flat = (cents + np.arange(candidates)[None, :] * SCORE_BINS).ravel()
        data = None if weights_per_customer is None else np.repeat(weights_per_customer, candidates)
        return np.bincount(flat, weights=data, minlength=candidates * SCORE_BINS).reshape(candidates, SCORE_BINS)

    def _rank_correlation(self, cents: np.ndarray) -> np.ndarray:
        counts = self._bins(cents)
        before = np.cumsum(counts, axis=1) - counts
        average_rank = before + (counts + 1) / 2  # ties share their average rank
        ranks = np.take_along_axis(average_rank, cents.T, axis=1).T  # customers x candidates
        centred = ranks - (self.size + 1) / 2
        norms = np.sqrt((centred**2).sum(axis=0))
        correlation = (centred * self.spend_z[:, None]).sum(axis=0)
        return np.where(norms > 0, correlation / np.where(norms > 0, norms, 1), 0.0)

    def _top_share(self, cents: np.ndarray) -> np.ndarray:
        if self.total_spend <= 0:
            return np.zeros(cents.shape[1])
        counts = self._bins(cents)[:, ::-1]  # highest total first
        spend = self._bins(cents, self.spend)[:, ::-1]
        wanted = self.top_fraction * self.size
        result = np.empty(cents.shape[1])
        cumulative_counts = np.cumsum(counts, axis=1)
        cumulative_spend = np.cumsum(spend, axis=1)
        for column in range(cents.shape[1]):
            positions = np.concatenate([[0.0], cumulative_counts[column]])
            held = np.concatenate([[0.0], cumulative_spend[column]])
            keep = np.append(True, np.diff(positions) > 0)  # np.interp needs increasing positions
            result[column] = np.interp(wanted, positions[keep], held[keep]) / self.total_spend
        return result


def _average_ranks(values: np.ndarray) -> np.ndarray:
    return rankdata(values, method="average")


@dataclass(frozen=True)
class Suggestion:
    weights: np.ndarray  # admissible, in the order of the bounds
    searched_weights: np.ndarray  # what the search found, before the materiality check
    material: bool
    train_size: int
    holdout_size: int
    holdout_gain: float
    holdout_gain_low: float  # 5th percentile of the bootstrapped gain
    evaluations: int  # candidate weight vectors scored
    generations: int


def suggest(
    *,
    space: WeightSpace,
    objective_name: str,
    shares: np.ndarray,
    spend: np.ndarray,
    top_fraction: float,
    seed: int = 1,
    max_generations: int = 60,
    population_size: int = 12,
    min_gain: float = MATERIAL_GAIN,
) -> Suggestion:
    """Search admissible weights that maximise the objective on a part of the fit sample, and
    keep them only if the rest of the sample confirms a material gain."""
    rng = np.random.default_rng(seed)
    size = len(spend)
    holdout = np.zeros(size, dtype=bool)
    holdout[rng.permutation(size)[: int(round(size * HOLDOUT_SHARE))]] = True
    train = Objective(objective_name, shares[~holdout], spend[~holdout], top_fraction=top_fraction)
    current = space.current  # as saved, even outside the bounds
    start = space.weights(np.clip(space.unit_of(current), 0.0, 1.0))[:, 0]  # its admissible neighbour
    unit_current = np.clip(space.unit_of(start), 0.0, 1.0)

    tried = [0]

    def cost(unit: np.ndarray) -> np.ndarray:
        candidates = space.weights(unit)
        tried[0] += candidates.shape[1]
        moved = np.abs(candidates - current[:, None]).sum(axis=0)
        return -(train.values(candidates) - MOVE_PRICE * moved)

    if len(space):
        found = differential_evolution(
            cost,
            bounds=[(0.0, 1.0)] * len(space),
            x0=unit_current,
            seed=seed,
            popsize=population_size,
            maxiter=max_generations,
            tol=1e-4,
            mutation=(0.5, 1.0),
            recombination=0.7,
            polish=False,
            updating="deferred",
            vectorized=True,
        )
        searched = space.weights(found.x)[:, 0]
        evaluations, generations = tried[0], int(found.nit)
    else:
        searched, evaluations, generations = start, 0, 0

    held = Objective(objective_name, shares[holdout], spend[holdout], top_fraction=top_fraction)
    gain, gain_low = _holdout_gain(held, current, searched, rng)
    material = bool(np.abs(searched - current).max(initial=0) > 0 and gain >= min_gain and gain_low > 0)
    return Suggestion(
        weights=searched if material else current,
        searched_weights=searched,
        material=material,
        train_size=int((~holdout).sum()),
        holdout_size=int(holdout.sum()),
        holdout_gain=float(gain),
        holdout_gain_low=float(gain_low),
        evaluations=evaluations,
        generations=generations,
    )


def _holdout_gain(held: Objective, current: np.ndarray, searched: np.ndarray, rng) -> tuple[float, float]:
    """The gain of the searched weights over the current ones on the held-out customers, and the
    5th percentile of that gain over bootstrap resamples of them (paired: same customers for both)."""
    if held.size < 3:
        return 0.0, 0.0
    both = np.stack([current, searched], axis=1)
    values = held.values(both)
    gain = float(values[1] - values[0])
    cents = held.cents(both)
    samples = []
    for _round in range(BOOTSTRAP_ROUNDS):
        pick = rng.integers(0, held.size, held.size)
        resampled = Objective(held.name, held.shares[pick], held.spend[pick], top_fraction=held.top_fraction)
        value = (
            resampled._rank_correlation(cents[pick])
            if held.name == "rank_correlation"
            else resampled._top_share(cents[pick])
        )
        samples.append(value[1] - value[0])
    return gain, float(np.percentile(samples, 5))


def rule_shares(rules: Sequence[engine.RuleSpec], metrics: dict[str, np.ndarray], populations=None) -> np.ndarray:
    """customers x rules: the share of each rule's weight each customer earns (the engine's own
    normalisation, with a weight of 1), so a total is `shares @ weights`."""
    populations = populations or {}
    size = len(next(iter(metrics.values()))) if metrics else 0
    columns = []
    for rule in rules:
        values = metrics.get(rule.metric)
        if values is None:
            values = np.full(size, np.nan)
        unit = dataclasses.replace(rule, weight=1.0)
        columns.append(engine.rule_points(unit, values, populations.get(rule.metric)))
    return np.stack(columns, axis=1) if columns else np.zeros((size, 0))
