"""Are the tiers right? What customers did after a date, set against the tiers their data before
it gave them.

Pure: NumPy arrays in, plain JSON-ready dicts out (they become a Backtest's stored result). No
ORM, no clock. scoring/backtest_services.py reads the data and calls these; docs/backtest.md
says what each figure means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from scoring import engine

TOP_SCORE_FRACTION = 0.20  # "share of next-period spend held by the top 20% of scores"
TOP_SPEND_FRACTION = 0.10  # "in the top 10% of next-period spend"
FEW_CUSTOMERS = 30  # a tier figure from fewer customers is marked "read with care"
CENT_BINS = int(engine.MAX_TOTAL * 100) + 1
GAINS_POINTS = tuple(round(step / 20, 2) for step in range(1, 21))  # 5%, 10%, ... 100% of customers


@dataclass(frozen=True)
class Outcomes:
    """What each customer did in the 12 months after the as-of date, aligned with the scores."""

    spend: np.ndarray
    orders: np.ndarray
    retained: np.ndarray  # bool: ordered in the last `retention_days` of the period
    complaints: np.ndarray

    def __len__(self) -> int:
        return len(self.spend)

    def subset(self, mask: np.ndarray) -> Outcomes:
        return Outcomes(self.spend[mask], self.orders[mask], self.retained[mask], self.complaints[mask])


def _figure(value) -> float | None:
    """A float for JSON, None for NaN or an undefined figure."""
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else round(value, 6)


def rank_correlation(scores: np.ndarray, spend: np.ndarray) -> float | None:
    """Spearman's rank correlation between score and next-period spend; None when it is undefined
    (fewer than three customers, or every score or every spend the same)."""
    scores, spend = np.asarray(scores, dtype=float), np.asarray(spend, dtype=float)
    if len(scores) < 3 or np.ptp(scores) == 0 or np.ptp(spend) == 0:
        return None
    return _figure(stats.spearmanr(scores, spend).statistic)


def _as_cents(scores: np.ndarray) -> np.ndarray | None:
    """Totals as the engine makes them (0..100, two decimals) as whole cents; None for other scores."""
    if not len(scores) or scores.min() < 0 or scores.max() > engine.MAX_TOTAL:
        return None
    cents = np.rint(scores * 100).astype(np.int64)
    return cents if np.allclose(cents, scores * 100, atol=1e-6) else None


def _groups(scores: np.ndarray, spend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group of equal scores, highest first: customers and spend in the group.

    Totals (cents from 0 to 100) are counted into bins, without a sort; other scores are sorted."""
    cents = _as_cents(scores)
    if cents is not None:
        counts = np.bincount(cents, minlength=CENT_BINS)[::-1]
        held = np.bincount(cents, weights=spend, minlength=CENT_BINS)[::-1]
        present = counts > 0
        return counts[present].astype(float), held[present]
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    ends = np.flatnonzero(np.append(sorted_scores[1:] != sorted_scores[:-1], True)) + 1
    held = np.diff(np.concatenate([[0.0], np.cumsum(spend[order])[ends - 1]]))
    return np.diff(np.concatenate([[0], ends])).astype(float), held


def gains(scores: np.ndarray, spend: np.ndarray, fractions: Sequence[float] = GAINS_POINTS) -> list[float | None]:
    """Share of all next-period spend held by the given fractions of customers with the highest scores.

    Customers tied on a score at the cut count in proportion, so the figure does not depend on
    how ties happen to be ordered."""
    scores, spend = np.asarray(scores, dtype=float), np.asarray(spend, dtype=float)
    total = float(spend.sum())
    if not len(scores) or total <= 0:
        return [None for _ in fractions]
    counts, held = _groups(scores, spend)
    positions = np.concatenate([[0.0], np.cumsum(counts)])
    cumulative = np.concatenate([[0.0], np.cumsum(held)])
    wanted = np.asarray(fractions, dtype=float) * len(scores)
    return [_figure(value / total) for value in np.interp(wanted, positions, cumulative)]


def top_share(scores: np.ndarray, spend: np.ndarray, fraction: float = TOP_SCORE_FRACTION) -> float | None:
    return gains(scores, spend, [fraction])[0]


def tier_table(tier_index: np.ndarray, tier_codes: Sequence[str], outcomes: Outcomes) -> list[dict]:
    """Per tier (highest first): customers, their share, share of next-period spend, mean and
    median next-period spend, retention, complaints and lift against the average customer."""
    size = len(tier_codes)
    tier_index = np.asarray(tier_index, dtype=np.int64)
    count = np.bincount(tier_index, minlength=size)
    spend_sum = np.bincount(tier_index, weights=outcomes.spend, minlength=size)
    retained = np.bincount(tier_index, weights=outcomes.retained.astype(float), minlength=size)
    complaints = np.bincount(tier_index, weights=outcomes.complaints, minlength=size)
    customers = len(tier_index)
    total_spend = float(outcomes.spend.sum())
    average = total_spend / customers if customers else 0.0
    rows = []
    for index, code in enumerate(tier_codes):
        n = int(count[index])
        mean = spend_sum[index] / n if n else None
        rows.append(
            {
                "code": code,
                "customers": n,
                "customer_share": _figure(n / customers) if customers else None,
                "spend_share": _figure(spend_sum[index] / total_spend) if total_spend > 0 else None,
                "mean_spend": _figure(mean),
                "median_spend": _figure(np.median(outcomes.spend[tier_index == index])) if n else None,
                "retention": _figure(retained[index] / n) if n else None,
                "complaints_mean": _figure(complaints[index] / n) if n else None,
                "lift": _figure(mean / average) if n and average > 0 else None,
                "few": 0 < n < FEW_CUSTOMERS,
            }
        )
    return rows


def inversions(rows: list[dict]) -> list[dict]:
    """Every pair of tiers (with customers) where the lower tier's customers spent more on average
    next period than the higher tier's: the tiers do not rank the outcome there."""
    found = []
    for high, higher in enumerate(rows):
        for lower in rows[high + 1 :]:
            if not higher["customers"] or not lower["customers"]:
                continue
            if lower["mean_spend"] > higher["mean_spend"]:
                found.append(
                    {
                        "higher": higher["code"],
                        "lower": lower["code"],
                        "higher_mean": higher["mean_spend"],
                        "lower_mean": lower["mean_spend"],
                    }
                )
    return found


def totals_from_points(points: dict[str, np.ndarray], size: int, without: str | None = None) -> np.ndarray:
    """Totals as the engine makes them (capped at 100, rounded) from points per metric (NaN where
    a customer's profile has no rule for the metric), optionally without one metric's rule."""
    raw = np.zeros(size)
    for metric, values in points.items():
        if metric != without:
            raw += np.nan_to_num(values, nan=0.0)
    return engine.round_total(np.minimum(raw, engine.MAX_TOTAL))


def contributions(points: dict[str, np.ndarray], top_tiers_fraction: float, outcomes: Outcomes) -> list[dict]:
    """What each rule adds: the rank correlation, the top 20%'s share of next-period spend and the
    top tiers' share (at the same number of customers) with the rule, and with it removed."""
    size = len(outcomes)
    spend = outcomes.spend
    spend_z = _standardised_ranks(spend)  # ranked once for every variant
    full = totals_from_points(points, size)
    measures_full = _measures(full, spend, spend_z, top_tiers_fraction)
    rows = []
    for metric in points:
        without = _measures(totals_from_points(points, size, without=metric), spend, spend_z, top_tiers_fraction)
        row = {"metric": metric}
        for name, value in measures_full.items():
            row[f"{name}_without"] = without[name]
            row[f"adds_{name}"] = None if value is None or without[name] is None else _figure(value - without[name])
        rows.append(row)
    return rows


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (totals in cents are ranked by counting)."""
    cents = _as_cents(values)
    if cents is None:
        return stats.rankdata(values)
    counts = np.bincount(cents, minlength=CENT_BINS)
    below = np.cumsum(counts) - counts
    return (below + (counts + 1) / 2)[cents]


def _standardised_ranks(values: np.ndarray) -> np.ndarray | None:
    """Average ranks, centred and scaled to unit length (None when every value is the same)."""
    ranks = _average_ranks(np.asarray(values, dtype=float))
    centred = ranks - ranks.mean()
    norm = np.sqrt((centred**2).sum())
    return centred / norm if norm > 0 else None


def _measures(
    totals: np.ndarray, spend: np.ndarray, spend_z: np.ndarray | None, top_tiers_fraction: float
) -> dict[str, float | None]:
    """Spearman's correlation as the Pearson correlation of ranks (spend ranked once by the caller)
    and both shares from one sort of the totals."""
    totals_z = _standardised_ranks(totals) if len(totals) >= 3 else None
    correlation = None if totals_z is None or spend_z is None else _figure(float(totals_z @ spend_z))
    top, top_tiers = gains(totals, spend, [TOP_SCORE_FRACTION, top_tiers_fraction])
    return {
        "rank_correlation": correlation,
        "top_share": top,
        "top_tiers_share": top_tiers if top_tiers_fraction > 0 else None,
    }


def misplaced(tier_index: np.ndarray, tier_count: int, outcomes: Outcomes) -> dict[str, np.ndarray]:
    """Positions of customers the tiers got wrong, judged by what they did next:

    - rising: graded in one of the two lowest tiers, yet in the top 10% of next-period spend;
    - lapsed: graded in one of the two highest tiers, yet no longer ordering at the end."""
    tier_index = np.asarray(tier_index, dtype=np.int64)
    spend = outcomes.spend
    rising = np.zeros(len(spend), dtype=bool)
    if len(spend):
        top = max(1, int(np.ceil(TOP_SPEND_FRACTION * len(spend))))
        cut = np.sort(spend)[::-1][top - 1]
        rising = (tier_index >= tier_count - 2) & (spend >= cut) & (spend > 0)
    lapsed = (tier_index < min(2, tier_count - 1)) & ~outcomes.retained
    return {"rising": np.flatnonzero(rising), "lapsed": np.flatnonzero(lapsed)}


def side_report(
    *,
    totals: np.ndarray,
    tier_index: np.ndarray,
    tier_codes: Sequence[str],
    thresholds: dict[str, float],
    points: dict[str, np.ndarray],
    outcomes: Outcomes,
) -> dict:
    """Everything the report shows for one rule set (misplaced customers as positions, for the caller to name)."""
    rows = tier_table(tier_index, tier_codes, outcomes)
    customers = len(outcomes)
    top_two = sum(row["customers"] for row in rows[:2])
    top_tiers_fraction = top_two / customers if customers else 0.0
    top, *curve = gains(totals, outcomes.spend, (TOP_SCORE_FRACTION, *GAINS_POINTS))  # one sort
    return {
        "thresholds": {code: float(value) for code, value in thresholds.items()},
        "tiers": rows,
        "inversions": inversions(rows),
        "rank_correlation": rank_correlation(totals, outcomes.spend),
        "top_share": top,
        "top_tiers_fraction": _figure(top_tiers_fraction),
        "top_tiers_share": _figure(sum(row["spend_share"] or 0.0 for row in rows[:2])) if customers else None,
        "gains": [[fraction, value] for fraction, value in zip(GAINS_POINTS, curve, strict=True)],
        "contributions": contributions(points, top_tiers_fraction, outcomes),
        "misplaced": misplaced(tier_index, len(tier_codes), outcomes),
    }
