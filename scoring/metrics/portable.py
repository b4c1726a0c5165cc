"""The metric columns through the plain ORM, so SQLite (tests, a laptop) and any other database
give the same table as the PostgreSQL path: one aggregate query per metric family."""

from __future__ import annotations

import datetime

import numpy as np
from django.db.models import Avg, Count, Max, Q, Sum

from crm.models import Interaction, Order, SatisfactionSurvey


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


def columns_read(
    customers, *, as_of: datetime.date, start: datetime.date, recent_start: datetime.date
) -> dict[str, np.ndarray]:
    """The customers' facts and aggregates over `start < day <= as_of`, as scoring.metrics expects them."""
    rows = list(
        customers.order_by("id").values_list(
            "id",
            "customer_type",
            "industry_id",
            "industry__strategic",
            "potential_rating",
            "cooperation_since",
            "status",
            "account_manager_id",
            "tier_id",
            "computed_tier_id",
            "score",
            "spend_12m",
            "runs_below_threshold",
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

    return {
        "customer_ids": ids,
        "customer_type": np.array([r[1] for r in rows], dtype=object),
        "industry_id": np.fromiter((r[2] for r in rows), dtype=np.int64, count=size),
        "account_manager_id": np.fromiter((r[7] if r[7] is not None else -1 for r in rows), dtype=np.int64, count=size),
        "status": np.array([r[6] for r in rows], dtype=object),
        "tier_id": np.fromiter((r[8] if r[8] is not None else -1 for r in rows), dtype=np.int64, count=size),
        "computed_tier_id": np.fromiter((r[9] if r[9] is not None else -1 for r in rows), dtype=np.int64, count=size),
        "score": np.fromiter((float(r[10]) if r[10] is not None else np.nan for r in rows), dtype=float, count=size),
        "spend_12m_before": np.fromiter((float(r[11]) for r in rows), dtype=float, count=size),
        "runs_below_threshold": np.fromiter((r[12] for r in rows), dtype=np.int64, count=size),
        "cooperation_since": np.fromiter((_ordinal(r[5]) for r in rows), dtype=np.int64, count=size),
        "last_order": last_order,
        "last_interaction": last_interaction,
        "complaints_recent": complaints_recent,
        "strategic": np.fromiter((10.0 if r[3] else float(r[4] or 0) for r in rows), dtype=float, count=size),
        "spend": spend,
        "count": count,
        "satisfaction": satisfaction,
        "referrals": referrals,
        "complaints": complaints,
        "shares": shares,
    }
