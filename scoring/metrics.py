"""The metrics the code knows, and how to compute them for many customers at once.

One set-based query per metric family (orders, surveys, interactions, customer fields),
over a 12-month window `as_of - 365 days < date <= as_of`, aligned into NumPy arrays.
Works the same on SQLite and PostgreSQL; never a query per customer.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
from django.db.models import Avg, Count, Max, Q, Sum
from django.utils.translation import gettext_lazy as _

from crm.models import Interaction, Order, SatisfactionSurvey

WINDOW_DAYS = 365


@dataclass(frozen=True)
class Metric:
    key: str
    label: object
    family: str
    unit: object = ""


METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric("spend_12m", _("12-month spend"), "orders", _("currency")),
        Metric("orders_12m", _("orders in 12 months"), "orders", _("orders")),
        Metric("avg_order_value_12m", _("average order value (12 months)"), "orders", _("currency")),
        Metric("recency_days", _("days since last order"), "orders", _("days")),
        Metric("tenure_years", _("years of cooperation"), "customer", _("years")),
        Metric("satisfaction_12m", _("satisfaction (12-month mean)"), "surveys", _("of 5")),
        Metric("strategic_potential", _("strategic potential"), "customer", _("of 10")),
        Metric("referrals_12m", _("referrals in 12 months"), "interactions", _("referrals")),
        Metric("complaints_12m", _("complaints in 12 months"), "interactions", _("complaints")),
        Metric("social_shares_12m", _("social shares in 12 months"), "interactions", _("shares")),
    ]
}

METRIC_CHOICES = [(key, metric.label) for key, metric in METRICS.items()]


def metric_label(key: str) -> str:
    metric = METRICS.get(key)
    return str(metric.label) if metric else key


def window_start(as_of: datetime.date) -> datetime.date:
    """First day *excluded* from the window: dates d with start < d <= as_of count."""
    return as_of - datetime.timedelta(days=WINDOW_DAYS)


@dataclass
class MetricTable:
    """Metrics and facts for a set of customers, one array entry per customer (sorted by id)."""

    as_of: datetime.date
    customer_ids: np.ndarray
    metrics: dict[str, np.ndarray]
    customer_type: np.ndarray
    industry_id: np.ndarray
    account_manager_id: np.ndarray  # -1 when none
    status: np.ndarray
    tier_id: np.ndarray  # current effective tier, -1 when never tiered
    computed_tier_id: np.ndarray
    score: np.ndarray  # current score, NaN when never tiered
    spend_12m_before: np.ndarray  # spend stored by the last run
    runs_below_threshold: np.ndarray
    cooperation_since: np.ndarray  # ordinal day, -1 when a prospect
    last_order: np.ndarray  # ordinal day of the last order in the window, -1 when none
    last_interaction: np.ndarray  # ordinal day of the last interaction in the window, -1 when none
    complaints_recent: np.ndarray  # complaints in the early-warning window

    def __len__(self) -> int:
        return len(self.customer_ids)

    def row(self, index: int) -> dict[str, float | None]:
        return {key: (None if np.isnan(values[index]) else float(values[index])) for key, values in self.metrics.items()}


def _align(customer_ids: np.ndarray, rows: list[tuple], columns: int, fill=np.nan, dtype=float) -> list[np.ndarray]:
    """Spread (customer_id, v1, v2, ...) rows into arrays aligned with the sorted customer_ids."""
    result = [np.full(len(customer_ids), fill, dtype=dtype) for _ in range(columns)]
    if not rows:
        return result
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    positions = np.searchsorted(customer_ids, ids)
    for column in range(columns):
        result[column][positions] = [fill if row[column + 1] is None else row[column + 1] for row in rows]
    return result


def _ordinal(value) -> int:
    return value.toordinal() if value is not None else -1


def metric_table(
    customers,
    as_of: datetime.date,
    *,
    complaints_window_days: int = 90,
) -> MetricTable:
    """Compute every registered metric for the customers in `customers` (a Customer queryset)."""
    start = window_start(as_of)
    rows = list(
        customers.order_by("id").values_list(
            "id", "customer_type", "industry_id", "industry__strategic", "potential_rating",
            "cooperation_since", "status", "account_manager_id", "tier_id", "computed_tier_id", "score",
            "spend_12m", "runs_below_threshold",
        )
    )
    size = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=size)
    table_ids = customers.order_by().values("id")

    orders = list(
        Order.objects.filter(customer_id__in=table_ids, ordered_at__gt=start, ordered_at__lte=as_of)
        .values("customer_id")
        .annotate(spend=Sum("amount"), count=Count("amount"), last=Max("ordered_at"))
        .values_list("customer_id", "spend", "count", "last")
    )
    spend, count = _align(ids, [(r[0], float(r[1]), r[2]) for r in orders], 2, fill=0.0)
    (last_order,) = _align(ids, [(r[0], _ordinal(r[3])) for r in orders], 1, fill=-1, dtype=np.int64)

    surveys = list(
        SatisfactionSurvey.objects.filter(customer_id__in=table_ids, surveyed_at__gt=start, surveyed_at__lte=as_of)
        .values("customer_id")
        .annotate(mean=Avg("score"))
        .values_list("customer_id", "mean")
    )
    (satisfaction,) = _align(ids, [(r[0], float(r[1])) for r in surveys], 1)

    recent_start = as_of - datetime.timedelta(days=complaints_window_days)
    kind = Interaction.Kind
    interactions = list(
        Interaction.objects.filter(customer_id__in=table_ids, occurred_at__gt=start, occurred_at__lte=as_of)
        .values("customer_id")
        .annotate(
            referrals=Count("id", filter=Q(kind=kind.REFERRAL)),
            complaints=Count("id", filter=Q(kind=kind.COMPLAINT)),
            shares=Count("id", filter=Q(kind=kind.SOCIAL_SHARE)),
            complaints_recent=Count("id", filter=Q(kind=kind.COMPLAINT, occurred_at__gt=recent_start)),
            last=Max("occurred_at"),
        )
        .values_list("customer_id", "referrals", "complaints", "shares", "complaints_recent", "last")
    )
    referrals, complaints, shares = _align(ids, [r[:4] for r in interactions], 3, fill=0.0)
    complaints_recent, last_interaction = _align(
        ids, [(r[0], r[4], _ordinal(r[5])) for r in interactions], 2, fill=0, dtype=np.int64
    )
    last_interaction = np.where(last_interaction == 0, -1, last_interaction)

    as_of_ordinal = as_of.toordinal()
    cooperation_since = np.fromiter((_ordinal(r[5]) for r in rows), dtype=np.int64, count=size)
    tenure = np.where(cooperation_since >= 0, (as_of_ordinal - cooperation_since) / 365.25, 0.0)
    strategic = np.fromiter(
        (10.0 if r[3] else float(r[4] or 0) for r in rows), dtype=float, count=size
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(count > 0, spend / np.maximum(count, 1), 0.0)
    recency = np.where(last_order >= 0, as_of_ordinal - last_order, np.nan).astype(float)

    return MetricTable(
        as_of=as_of,
        customer_ids=ids,
        metrics={
            "spend_12m": spend,
            "orders_12m": count,
            "avg_order_value_12m": average,
            "recency_days": recency,
            "tenure_years": np.maximum(tenure, 0.0),
            "satisfaction_12m": satisfaction,
            "strategic_potential": strategic,
            "referrals_12m": referrals,
            "complaints_12m": complaints,
            "social_shares_12m": shares,
        },
        customer_type=np.array([r[1] for r in rows], dtype=object),
        industry_id=np.fromiter((r[2] for r in rows), dtype=np.int64, count=size),
        account_manager_id=np.fromiter((r[7] if r[7] is not None else -1 for r in rows), dtype=np.int64, count=size),
        status=np.array([r[6] for r in rows], dtype=object),
        tier_id=np.fromiter((r[8] if r[8] is not None else -1 for r in rows), dtype=np.int64, count=size),
        computed_tier_id=np.fromiter((r[9] if r[9] is not None else -1 for r in rows), dtype=np.int64, count=size),
        score=np.fromiter((float(r[10]) if r[10] is not None else np.nan for r in rows), dtype=float, count=size),
        spend_12m_before=np.fromiter((float(r[11]) for r in rows), dtype=float, count=size),
        runs_below_threshold=np.fromiter((r[12] for r in rows), dtype=np.int64, count=size),
        cooperation_since=cooperation_since,
        last_order=last_order,
        last_interaction=last_interaction,
        complaints_recent=complaints_recent,
    )
