"""Event-driven re-evaluation: new orders, complaints or surveys flag a customer at once.

A re-evaluation refreshes flags, lifecycle, last order and 12-month spend, dated by the day they
are computed for (figures_as_of); the score and tier on the customer row stay those of the last
run (so lists stay consistent), and the notice carries the live score. Spend flags compare with
the spend of the last run (its snapshot), not with the live spend the previous re-evaluation
wrote, so growth spread over several orders still counts.
"""

from __future__ import annotations

import datetime
import logging

import numpy as np
from celery import signature
from django.db import transaction
from django.utils import timezone

from core.clock import local_today
from crm.models import Customer, Interaction, Order, SatisfactionSurvey
from tiering import persist
from tiering.models import Notice, TieringSettings
from tiering.services import task_names
from tiering.services.context import EvaluationContext
from tiering.services.evaluation import customers_evaluate
from tiering.services.notices import notice_build, notices_deliver_on_commit

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000


def _ids_clean(customer_ids) -> list[int]:
    ids = set()
    for value in customer_ids or []:
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            logger.warning("ignoring customer id %r in re-evaluation", value)
    return sorted(ids)


def customers_reevaluate_enqueue(customer_ids) -> None:
    """Queue a re-evaluation after the caller's transaction commits. Never raises: if the broker is
    down, a warning is logged and the hourly sweep picks the customers up."""
    try:
        ids = _ids_clean(customer_ids)
    except Exception:
        logger.warning("re-evaluation not queued: bad customer ids", exc_info=True)
        return
    if ids:
        transaction.on_commit(lambda: _send(ids))


def _send(ids: list[int]) -> None:
    """One task per batch, by name (task_names): tiering.tasks imports this module."""
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        try:
            signature(task_names.REEVALUATE_CUSTOMERS, args=[batch]).apply_async(retry=False)
        except Exception:
            logger.warning(
                "re-evaluation of %d customer(s) not queued; the sweep will catch up", len(batch), exc_info=True
            )


def customers_reevaluate(*, customer_ids, as_of: datetime.date | None = None) -> int:
    """Re-evaluate customers now; returns how many new early-warning notices were raised."""
    ids = _ids_clean(customer_ids)
    if not ids:
        return 0
    as_of = as_of or local_today()
    context = EvaluationContext.load(as_of)
    raised = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        raised += _batch_reevaluate(batch, context)
    return raised


def _batch_reevaluate(ids: list[int], context: EvaluationContext) -> int:
    customers = Customer.objects.filter(pk__in=ids)
    evaluation = customers_evaluate(customers, context, first=ids[0], last=ids[-1], spend_from_history=True)
    table = evaluation.scored.table
    stored = dict(customers.values_list("id", "flags"))
    codes = dict(customers.values_list("id", "code"))
    now = timezone.now()
    rows, notices, delivered = [], [], []
    tier_codes = context.codes
    spend = np.round(table.metrics["spend_12m"], 2).tolist()
    for i, customer_id in enumerate(table.customer_ids.tolist()):
        flags = evaluation.flags[i]
        last_order = int(table.last_order[i])
        rows.append(
            (
                customer_id,
                flags,
                str(evaluation.lifecycle[i]),
                datetime.date.fromordinal(last_order) if last_order > 0 else None,
                f"{spend[i]:.2f}",
            )
        )
        new_flags = [flag for flag in flags if flag not in (stored.get(customer_id) or [])]
        if not new_flags:
            continue
        manager_id = int(table.account_manager_id[i])
        recipient_id = manager_id if manager_id > 0 else None
        payload = {
            "flags": flags,
            "new_flags": new_flags,
            "score": float(evaluation.scored.totals[i]),
            "computed_tier": tier_codes[int(evaluation.scored.tier_index[i])],
            "spend_12m": spend[i],
            "spend_12m_last_run": round(float(evaluation.spend_before[i]), 2),
            "complaints_recent": int(table.complaints_recent[i]),
            "as_of": context.as_of.isoformat(),
        }
        for flag in new_flags:
            notice, delivery = notice_build(
                kind=Notice.Kind.EARLY_WARNING,
                customer_id=customer_id,
                customer_code=codes.get(customer_id),
                recipient_id=recipient_id,
                payload={**payload, "flag": flag},
                dedupe_key=f"{flag}:{context.as_of.isoformat()}",
            )
            notices.append(notice)
            delivered.append(delivery)
    with transaction.atomic():
        persist.customers_update(
            ["flags", "lifecycle", "last_order_at", "spend_12m"],
            rows,
            {"updated_at": now, "figures_as_of": context.as_of},
        )
        persist.notices_write(notices)
        notices_deliver_on_commit(delivered)
    return len(notices)


def customers_changed_since(since: datetime.datetime) -> list[int]:
    """Customers with an order, survey or interaction received after `since`."""
    ids: set[int] = set()
    for model in (Order, SatisfactionSurvey, Interaction):
        ids.update(model.objects.filter(created_at__gt=since).values_list("customer_id", flat=True).distinct())
    return sorted(ids)


def customers_reevaluate_sweep(*, now: datetime.datetime | None = None) -> int:
    """Re-evaluate everyone whose data arrived since the previous sweep, so a lost task loses nothing."""
    now = now or timezone.now()
    settings = TieringSettings.current()
    since = settings.last_sweep_at or (now - datetime.timedelta(days=1))
    ids = customers_changed_since(since)
    if ids:
        customers_reevaluate(customer_ids=ids)
    TieringSettings.objects.filter(pk=settings.pk).update(last_sweep_at=now)
    return len(ids)
