"""The SLA sweep: remind a case's owner at 80% of the first-response time, record a breach at
the deadline and tell the owner and the tier administrators, each exactly once.

Idempotent and safe with several workers: each batch claims its cases with a conditional update
inside a transaction that also writes the notices, so a second tick, a second worker, or a worker
killed mid-sweep (its transaction rolls back) never notifies twice and never misses one.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from commitments.models import Case
from tiering.models import Notice
from tiering.services.notices import notice_build, notices_deliver_on_commit

logger = logging.getLogger(__name__)
BATCH = 2000


@dataclass
class SweepResult:
    reminded: int = 0
    breached: int = 0


def tier_administrators() -> list[int]:
    """Who hears of a breach besides the owner: active superusers and holders of scoring.change_tier."""
    User = get_user_model()
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(user_permissions__codename="change_tier", user_permissions__content_type__app_label="scoring")
            | Q(groups__permissions__codename="change_tier", groups__permissions__content_type__app_label="scoring")
        )
        .distinct()
        .values_list("pk", flat=True)
    )


def _claim(pending: Q, stamp: str, now: datetime.datetime) -> list[Case]:
    """Stamp up to BATCH due cases as ours. PostgreSQL: locked with SKIP LOCKED (a row another
    worker holds is skipped, a row it stamped no longer matches once re-read) and stamped in one
    statement. Elsewhere (SQLite, one writer at a time) each row is stamped only if still pending."""
    rows = Case.objects.filter(pending).order_by("pk").select_related("customer")
    if connection.features.has_select_for_update_skip_locked:
        cases = list(rows.select_for_update(skip_locked=True, of=("self",))[:BATCH])
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(**{stamp: now})
        return cases
    return [c for c in rows[:BATCH] if Case.objects.filter(pending, pk=c.pk).update(**{stamp: now})]


def _payload(case: Case) -> dict:
    return {
        "case": case.pk,
        "subject": case.subject,
        "due_at": case.first_response_due_at.isoformat(),
        "response_minutes": case.response_minutes,
        "clock": case.clock,
    }


def sla_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    admins: list[int] | None = None
    while True:
        with transaction.atomic():
            cases = _claim(
                Q(
                    first_response_at__isnull=True,
                    reminded_at__isnull=True,
                    breached_at__isnull=True,
                    reminder_at__lte=now,
                )
                & ~Q(status=Case.Status.CLOSED),
                "reminded_at",
                now,
            )
            built = [
                notice_build(
                    kind=Notice.Kind.CASE_REMINDER,
                    customer_id=case.customer_id,
                    customer_code=case.customer.code,
                    recipient_id=case.owner_id,
                    payload=_payload(case),
                    dedupe_key=f"case:{case.pk}:reminder",
                )
                for case in cases
            ]
            Notice.objects.bulk_create([notice for notice, _ in built], ignore_conflicts=True)
            notices_deliver_on_commit([delivery for _, delivery in built])
        result.reminded += len(cases)
        if len(cases) < BATCH:
            break
    while True:
        with transaction.atomic():
            cases = _claim(
                Q(first_response_at__isnull=True, breached_at__isnull=True, first_response_due_at__lte=now)
                & ~Q(status=Case.Status.CLOSED),
                "breached_at",
                now,
            )
            if admins is None and cases:
                admins = tier_administrators()
            built = []
            for case in cases:
                for recipient in dict.fromkeys([case.owner_id, *(admins or [])]):
                    built.append(
                        notice_build(
                            kind=Notice.Kind.CASE_BREACH,
                            customer_id=case.customer_id,
                            customer_code=case.customer.code,
                            recipient_id=recipient,
                            payload=_payload(case),
                            dedupe_key=f"case:{case.pk}:breach:{recipient}",
                        )
                    )
            Notice.objects.bulk_create([notice for notice, _ in built], ignore_conflicts=True)
            notices_deliver_on_commit([delivery for _, delivery in built])
        result.breached += len(cases)
        if len(cases) < BATCH:
            break
    if result.reminded or result.breached:
        logger.info("SLA sweep: %d reminders, %d breaches", result.reminded, result.breached)
    return result
