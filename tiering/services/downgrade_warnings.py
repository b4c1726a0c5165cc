"""Downgrade warnings: before a quarterly run, tell managers which customers would fall and what they need."""

from __future__ import annotations

import datetime
import logging

import numpy as np

from crm.models import Customer
from tiering import decide, persist, schedules
from tiering.models import Notice, TieringSettings
from tiering.partition import chunk_bounds, period_label
from tiering.services.context import EvaluationContext
from tiering.services.evaluation import customers_evaluate
from tiering.services.notices import notice_build, notices_deliver_on_commit

logger = logging.getLogger(__name__)


def downgrade_warnings_send_if_due(*, today: datetime.date) -> int:
    """Send warnings when a quarterly run is exactly `warning_days_before` days away."""
    days = TieringSettings.current().warning_days_before
    run_day = today + datetime.timedelta(days=days)
    if not schedules.quarterly_run_on(run_day):
        return 0
    return downgrade_warnings_send_for_period(as_of=today, period=period_label(run_day))


def downgrade_warnings_send_for_period(*, as_of: datetime.date, period: str) -> int:
    """Warn, once per period, about every tiered customer whose live score is below its tier's threshold."""
    context = EvaluationContext.load(as_of)
    settings = context.settings
    ids = np.fromiter(
        Customer.objects.filter(tier__isnull=False).order_by("id").values_list("id", flat=True), dtype=np.int64
    )
    key = f"warning:{period}"
    created = 0
    for first, last, _size in chunk_bounds(ids, max(settings.chunk_size, 1)):
        customers = Customer.objects.filter(tier__isnull=False, id__gte=first, id__lte=last)
        evaluation = customers_evaluate(customers, context, first=first, last=last, count_this_run=False)
        created += _warn(evaluation, context, key, period)
    return created


def _warn(evaluation, context: EvaluationContext, key: str, period: str) -> int:
    table = evaluation.scored.table
    current = context.index_of_ids(table.tier_id)
    totals = evaluation.scored.totals
    min_scores = context.min_scores
    at_risk = (current != decide.UNTIERED) & ~evaluation.decision.overridden
    at_risk &= totals + 1e-9 < min_scores[np.maximum(current, 0)]
    positions = np.nonzero(at_risk)[0]
    if not positions.size:
        return 0
    ids = table.customer_ids[positions].tolist()
    warned = set(
        Notice.objects.filter(kind=Notice.Kind.DOWNGRADE_WARNING, dedupe_key=key, customer_id__in=ids).values_list(
            "customer_id", flat=True
        )
    )
    codes = dict(Customer.objects.filter(pk__in=ids).values_list("id", "code"))
    notices, delivered = [], []
    for i in positions.tolist():
        customer_id = int(table.customer_ids[i])
        if customer_id in warned:
            continue
        tier_index = int(current[i])
        gap, rules = decide.points_to_reach(
            total=float(totals[i]),
            target=float(min_scores[tier_index]),
            points=evaluation.points_of(i),
            max_points=evaluation.max_points_of(i),
        )
        manager_id = int(table.account_manager_id[i])
        notice, delivery = notice_build(
            kind=Notice.Kind.DOWNGRADE_WARNING,
            customer_id=customer_id,
            customer_code=codes.get(customer_id),
            recipient_id=manager_id if manager_id > 0 else None,
            payload={
                "tier": context.codes[tier_index],
                "would_fall_to": context.codes[int(evaluation.scored.tier_index[i])],
                "score": float(totals[i]),
                "threshold": float(min_scores[tier_index]),
                "points_needed": gap,
                "rules": rules,
                "period": period,
            },
            dedupe_key=key,
        )
        notices.append(notice)
        delivered.append(delivery)
    persist.notices_write(notices)
    notices_deliver_on_commit(delivered)
    return len(notices)
