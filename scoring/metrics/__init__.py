"""The metrics the code knows, and how to compute them for many customers at once.

One set-based query per metric family (orders, surveys, interactions, customer fields),
over a 12-month window `as_of - 365 days < date <= as_of`, aligned into NumPy arrays.
Never a query per customer. Two paths read the same columns: `portable` is plain ORM (SQLite
and any database), `postgres` reads through binary COPY without building a Python object per
row (measurements in docs/performance.md). The metrics are derived from those columns here,
once, so the two paths cannot drift apart.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
from django.db import connections
from django.utils.translation import gettext_lazy as _

from scoring.metrics import portable, postgres

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
        return {
            key: (None if np.isnan(values[index]) else float(values[index])) for key, values in self.metrics.items()
        }


# The raw aggregates a path reads besides MetricTable's own arrays; the metrics come from them.
_AGGREGATES = ("strategic", "spend", "count", "satisfaction", "referrals", "complaints", "shares")


def _derived_metrics(
    as_of: datetime.date,
    *,
    cooperation_since: np.ndarray,
    strategic: np.ndarray,
    spend: np.ndarray,
    count: np.ndarray,
    last_order: np.ndarray,
    satisfaction: np.ndarray,
    referrals: np.ndarray,
    complaints: np.ndarray,
    shares: np.ndarray,
) -> dict[str, np.ndarray]:
    """The registered metrics from the raw aggregates; both database paths end here."""
    as_of_ordinal = as_of.toordinal()
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(count > 0, spend / np.maximum(count, 1), 0.0)
    recency = np.where(last_order >= 0, as_of_ordinal - last_order, np.nan).astype(float)
    return {
        "spend_12m": spend,
        "orders_12m": count,
        "avg_order_value_12m": average,
        "recency_days": recency,
        "tenure_years": tenure_years(as_of, cooperation_since),
        "satisfaction_12m": satisfaction,
        "strategic_potential": strategic,
        "referrals_12m": referrals,
        "complaints_12m": complaints,
        "social_shares_12m": shares,
    }


def tenure_years(as_of: datetime.date, cooperation_since: np.ndarray) -> np.ndarray:
    """Years of cooperation at `as_of` from ordinal start days (-1: a prospect, 0 years; never negative)."""
    tenure = np.where(cooperation_since >= 0, (as_of.toordinal() - cooperation_since) / 365.25, 0.0)
    return np.maximum(tenure, 0.0)


def strategic_potential(industry_strategic: np.ndarray, potential_rating: np.ndarray) -> np.ndarray:
    """Full marks (10) in a strategic industry, else the manager's 0-10 rating (NaN or none: 0)."""
    return np.where(industry_strategic, 10.0, np.nan_to_num(np.asarray(potential_rating, dtype=float), nan=0.0))


def metric_table(
    customers,
    as_of: datetime.date,
    *,
    complaints_window_days: int = 90,
) -> MetricTable:
    """Compute every registered metric for the customers in `customers` (a Customer queryset)."""
    path = postgres if connections[customers.db].vendor == "postgresql" else portable
    return _metric_table_by(path, customers, as_of, complaints_window_days=complaints_window_days)


def _metric_table_by(path, customers, as_of: datetime.date, *, complaints_window_days: int) -> MetricTable:
    """The table from one path's columns: MetricTable's arrays by field name (all but `as_of` and
    `metrics`) and the _AGGREGATES. The PostgreSQL tests compare both paths through here."""
    columns = path.columns_read(
        customers,
        as_of=as_of,
        start=window_start(as_of),
        recent_start=as_of - datetime.timedelta(days=complaints_window_days),
    )
    aggregates = {name: columns.pop(name) for name in _AGGREGATES}
    metrics = _derived_metrics(
        as_of, cooperation_since=columns["cooperation_since"], last_order=columns["last_order"], **aggregates
    )
    return MetricTable(as_of=as_of, metrics=metrics, **columns)
