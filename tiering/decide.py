"""Pure decisions of a tier run over NumPy arrays: grace, overrides, direction, lifecycle, flags, reasons.

No queries and no clock: the caller passes the as-of date and the settings values, so every rule
here is testable in microseconds and the same code serves a full run and a single customer.
Lifecycle stages are crm's Customer.Lifecycle values; the flag codes are defined here.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

import numpy as np

from crm.models import Customer
from scoring.models import ScoreRule

UNTIERED = -1

Lifecycle = Customer.Lifecycle

FLAG_SPEND_UP = "spend_up"
FLAG_SPEND_DOWN = "spend_down"
FLAG_COMPLAINTS = "complaints"
FLAG_NO_ORDER = "no_order"
FLAGS = (FLAG_SPEND_UP, FLAG_SPEND_DOWN, FLAG_COMPLAINTS, FLAG_NO_ORDER)


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class GraceRule:
    runs: int = 1  # downgrade only after this many consecutive runs below the threshold
    buffer: float = 0.0  # ...and only when below it by more than this many points


@dataclass(frozen=True)
class FlagRule:
    spend_up_percent: float = 30.0
    spend_down_percent: float = 50.0
    complaints_threshold: int = 3
    no_order_months: int = 6


@dataclass(frozen=True)
class LifecycleRule:
    new_months: int = 6
    mature_months: int = 24
    silent_months: int = 6
    lost_months: int = 3


@dataclass
class TierDecision:
    """Per customer (aligned arrays): the tier that takes effect and why."""

    effective_index: np.ndarray  # index into the tiers (0 = highest)
    previous_index: np.ndarray  # UNTIERED when the customer was never tiered
    overridden: np.ndarray  # bool
    runs_below: np.ndarray  # consecutive runs below the current tier's threshold (grace counter)
    direction: np.ndarray  # +1 upgrade, -1 downgrade, 0 unchanged or first tiering


def tiers_decide(
    *,
    computed_index: np.ndarray,
    totals: np.ndarray,
    previous_index: np.ndarray,
    runs_below_before: np.ndarray,
    override_index: np.ndarray,
    min_scores: np.ndarray,
    grace: GraceRule,
    count_this_run: bool = True,
) -> TierDecision:
    """Apply grace to downgrades (upgrades take effect at once), then overrides (UNTIERED = none).

    `count_this_run` is False for a forced rerun of a period already counted, so rerunning a
    quarter does not bring a grace downgrade closer.
    """
    computed_index = np.asarray(computed_index, dtype=np.int64)
    previous_index = np.asarray(previous_index, dtype=np.int64)
    tiered = previous_index != UNTIERED
    below = tiered & (computed_index > previous_index)
    previous_min = np.where(tiered, min_scores[np.where(tiered, previous_index, 0)], 0.0)
    shortfall = previous_min - np.asarray(totals, dtype=float)
    before = np.asarray(runs_below_before, dtype=np.int64)
    if count_this_run:
        runs_below = np.where(below, before + 1, 0)
    else:
        runs_below = np.where(below, np.maximum(before, 1), 0)
    downgrade_due = below & (runs_below >= max(grace.runs, 1)) & (shortfall > grace.buffer + 1e-9)
    graced = np.where(below & ~downgrade_due, previous_index, computed_index)
    runs_below = np.where(downgrade_due, 0, runs_below)

    override_index = np.asarray(override_index, dtype=np.int64)
    overridden = override_index != UNTIERED
    effective = np.where(overridden, override_index, graced)
    runs_below = np.where(overridden, 0, runs_below)
    direction = np.where(~tiered, 0, np.sign(previous_index - effective)).astype(np.int64)
    return TierDecision(
        effective_index=effective,
        previous_index=previous_index,
        overridden=overridden,
        runs_below=runs_below.astype(np.int64),
        direction=direction,
    )


def lifecycle_stages(
    *,
    as_of: datetime.date,
    status: np.ndarray,
    cooperation_since: np.ndarray,
    last_order: np.ndarray,
    last_interaction: np.ndarray,
    rule: LifecycleRule,
    terminated_status: str = Customer.Status.TERMINATED.value,
) -> np.ndarray:
    """Lifecycle stage per customer from ordinal dates (-1 = none).

    No cooperation date: prospect. Terminated: lost. No order and no interaction for
    `silent_months`: silent (gone quiet, to re-activate). Still in contact but no order for
    `lost_months`: lost. Otherwise new / established / mature by the length of cooperation."""
    cooperation_since = np.asarray(cooperation_since, dtype=np.int64)
    last_order = np.asarray(last_order, dtype=np.int64)
    last_interaction = np.asarray(last_interaction, dtype=np.int64)
    new_limit = months_before(as_of, rule.new_months).toordinal()
    mature_limit = months_before(as_of, rule.mature_months).toordinal()
    silent_limit = months_before(as_of, rule.silent_months).toordinal()
    lost_limit = months_before(as_of, rule.lost_months).toordinal()

    prospect = cooperation_since < 0
    last_activity = np.maximum(last_order, last_interaction)
    # `.value`: plain strings in the array, as the database gives them back.
    stage = np.where(
        cooperation_since > new_limit,
        Lifecycle.NEW.value,
        np.where(cooperation_since > mature_limit, Lifecycle.ESTABLISHED.value, Lifecycle.MATURE.value),
    ).astype(object)
    # A customer who started recently has not had the time to be lost or silent yet.
    lost = ~prospect & (last_order <= lost_limit) & (cooperation_since <= lost_limit)
    stage = np.where(lost, Lifecycle.LOST.value, stage)
    silent = ~prospect & (last_activity <= silent_limit) & (cooperation_since <= silent_limit)
    stage = np.where(silent, Lifecycle.SILENT.value, stage)
    stage = np.where(prospect, Lifecycle.PROSPECT.value, stage)
    stage = np.where(np.asarray(status, dtype=object) == terminated_status, Lifecycle.LOST.value, stage)
    return stage


def early_warning_flags(
    *,
    as_of: datetime.date,
    spend: np.ndarray,
    spend_before: np.ndarray,
    tiered: np.ndarray,
    complaints_recent: np.ndarray,
    cooperation_since: np.ndarray,
    last_order: np.ndarray,
    active: np.ndarray,
    rule: FlagRule,
) -> list[list[str]]:
    """Flag codes per customer. Spend is compared with the spend stored by the last run."""
    spend = np.asarray(spend, dtype=float)
    spend_before = np.asarray(spend_before, dtype=float)
    tiered = np.asarray(tiered, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        spend_up = tiered & np.where(
            spend_before > 0, spend >= spend_before * (1 + rule.spend_up_percent / 100.0), spend > 0
        )
        spend_down = tiered & (spend_before > 0) & (spend <= spend_before * (1 - rule.spend_down_percent / 100.0))
    complaints = np.asarray(complaints_recent) >= rule.complaints_threshold
    no_order_limit = months_before(as_of, rule.no_order_months).toordinal()
    customers_with_deal = (np.asarray(cooperation_since) >= 0) & np.asarray(active, dtype=bool)
    no_order = (
        customers_with_deal
        & (np.asarray(last_order) <= no_order_limit)
        & (np.asarray(cooperation_since) <= no_order_limit)
    )
    columns = [
        (FLAG_SPEND_UP, spend_up),
        (FLAG_SPEND_DOWN, spend_down),
        (FLAG_COMPLAINTS, complaints),
        (FLAG_NO_ORDER, no_order),
    ]
    result: list[list[str]] = [[] for _ in range(len(spend))]
    for code, mask in columns:
        for index in np.nonzero(mask)[0]:
            result[index].append(code)
    return result


def top_reasons(
    *,
    points: dict[str, float],
    max_points: dict[str, float],
    previous_points: dict[str, float] | None,
    direction: int,
    limit: int = 3,
) -> list[dict]:
    """The rules that moved the score most (against the previous assignment), in the direction of
    the change; without a previous assignment, the rules with the biggest shortfall."""
    metrics = list(points)
    previous_points = previous_points or {}
    return top_reasons_batch(
        metrics=metrics,
        points=np.array([[points[m] for m in metrics]], dtype=float).reshape(1, len(metrics)),
        max_points=np.array([[max_points.get(m, 0.0) for m in metrics]], dtype=float).reshape(1, len(metrics)),
        previous=np.array([[_nan_if_none(previous_points.get(m)) for m in metrics]], dtype=float).reshape(
            1, len(metrics)
        ),
        has_previous=np.array([bool(previous_points)]),
        direction=np.array([direction]),
        limit=limit,
    )[0]


def _nan_if_none(value) -> float:
    return np.nan if value is None else value


def top_reasons_batch(
    *,
    metrics: list[str],
    points: np.ndarray,
    max_points: np.ndarray,
    previous: np.ndarray,
    has_previous: np.ndarray,
    direction: np.ndarray,
    order: np.ndarray | None = None,
    limit: int = 3,
) -> list[list[dict]]:
    """top_reasons for many customers at once, in NumPy.

    `points`, `max_points` and `previous` are customers x `metrics`: NaN in `points` where the
    customer's profile has no rule for the metric, in `previous` where the previous assignment
    had no points for it. `order` ranks each metric in the customer's rule order (ties go to the
    earlier rule; default: the order of `metrics`)."""
    rows, width = points.shape
    if order is None:
        order = np.broadcast_to(np.arange(width), (rows, width))
    ruled = ~np.isnan(points)
    step = np.asarray(direction)[:, None]
    with np.errstate(invalid="ignore"):
        delta = np.round(points - previous, 2)
        moved = ruled & ~np.isnan(delta) & (delta != 0) & ((step == 0) | (np.sign(delta) == step))
        moved &= np.asarray(has_previous, dtype=bool)[:, None]
        shortfall = np.round(max_points - points, 2)
        short = ruled & (shortfall > 0)
    by_move = np.lexsort((order, np.where(moved, -np.abs(delta), np.inf)), axis=-1)[:, :limit]
    by_shortfall = np.lexsort((order, np.where(short, -shortfall, np.inf)), axis=-1)[:, :limit]
    row_index = np.arange(rows)[:, None]
    chosen_moved = moved[row_index, by_move].tolist()
    chosen_short = short[row_index, by_shortfall].tolist()
    points_list, previous_list, max_list = points.tolist(), previous.tolist(), max_points.tolist()
    by_move, by_shortfall = by_move.tolist(), by_shortfall.tolist()
    result: list[list[dict]] = []
    for row in range(rows):
        value, before = points_list[row], previous_list[row]
        reasons = [
            {
                "metric": metrics[j],
                "points": round(value[j], 2),
                "previous_points": round(before[j], 2),
                "delta": round(value[j] - before[j], 2),
            }
            for j, ok in zip(by_move[row], chosen_moved[row], strict=True)
            if ok
        ]
        if not reasons:
            top = max_list[row]
            reasons = [
                {
                    "metric": metrics[j],
                    "points": round(value[j], 2),
                    "max_points": top[j],
                    "shortfall": round(top[j] - value[j], 2),
                }
                for j, ok in zip(by_shortfall[row], chosen_short[row], strict=True)
                if ok
            ]
        result.append(reasons)
    return result


def points_to_reach(
    *,
    total: float,
    target: float,
    points: dict[str, float],
    max_points: dict[str, float],
    categories: dict[str, str] | None = None,
) -> tuple[float, list[dict]]:
    """The gap to `target` and, rule by rule, how many points each could still add towards it."""
    gap = round(max(0.0, target - total), 2)
    rows = []
    for metric, value in points.items():
        if categories and categories.get(metric) == ScoreRule.Category.BONUS:
            continue
        available = round(max(0.0, max_points.get(metric, 0.0) - value), 2)
        if available > 0:
            rows.append(
                {
                    "metric": metric,
                    "points": round(value, 2),
                    "max_points": max_points.get(metric, 0.0),
                    "available": available,
                    "needed": round(min(available, gap), 2),
                }
            )
    rows.sort(key=lambda item: (-item["needed"], -item["available"]))
    return gap, rows
