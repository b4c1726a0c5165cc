"""The SLA sweep: remind a case's owner at 80% of the first-response time, record a breach at
the deadline and tell the owner and the tier administrators, each exactly once.

Idempotent and safe with several workers: each batch claims its cases with a conditional update
inside a transaction that also writes the notices, so a second tick, a second worker, or a worker
killed mid-sweep (its transaction rolls back) never notifies twice and never misses one.
"""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from commitments.models import Case
from tiering.models import Notice
from tiering.services.notices import notice_build, notices_deliver_on_commit, notices_lines_deliver_on_commit

logger = logging.getLogger(__name__)
BATCH = 2000
# Sent inside each batch's transaction, after its cases are stamped and its notices written, just
# before the commit, with `kind` ("reminder" or "breach") and `case_ids` (the claimed cases). Nothing in
# the product listens: it is where tests inject faults (commitments/tests/faults.py), so a worker
# killed mid-sweep is killed on the production path itself.
sweep_batch_before_commit = Signal()


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


REMINDER, BREACH = "reminder", "breach"
_PENDING = {
    REMINDER: Q(first_response_at__isnull=True, reminded_at__isnull=True, breached_at__isnull=True),
    BREACH: Q(first_response_at__isnull=True, breached_at__isnull=True),
}
_DEADLINE = {REMINDER: "reminder_at", BREACH: "first_response_due_at"}
_STAMP = {REMINDER: "reminded_at", BREACH: "breached_at"}
_KIND = {REMINDER: Notice.Kind.CASE_REMINDER, BREACH: Notice.Kind.CASE_BREACH}


def _claim(phase: str, now: datetime.datetime) -> list[Case]:
    """Stamp up to BATCH due cases as ours, the earliest deadline first; each row is stamped only
    if still pending (the portable path; SQLite has one writer at a time)."""
    pending = _PENDING[phase] & Q(**{f"{_DEADLINE[phase]}__lte": now}) & ~Q(status=Case.Status.CLOSED)
    rows = Case.objects.filter(pending).order_by(_DEADLINE[phase], "pk").select_related("customer")
    return [c for c in rows[:BATCH] if Case.objects.filter(pending, pk=c.pk).update(**{_STAMP[phase]: now})]


def _payload(case: Case) -> dict:
    return {
        "case": case.pk,
        "subject": case.subject,
        "due_at": case.first_response_due_at.isoformat(),
        "response_minutes": case.response_minutes,
        "clock": case.clock,
    }


def _batch_portable(phase: str, now: datetime.datetime, admins: list[int]) -> int:
    with transaction.atomic():
        cases = _claim(phase, now)
        built = []
        for case in cases:
            recipients = [case.owner_id] if phase == REMINDER else dict.fromkeys([case.owner_id, *admins])
            for recipient in recipients:
                built.append(
                    notice_build(
                        kind=_KIND[phase],
                        customer_id=case.customer_id,
                        customer_code=case.customer.code,
                        recipient_id=recipient,
                        payload=_payload(case),
                        dedupe_key=f"case:{case.pk}:reminder"
                        if phase == REMINDER
                        else f"case:{case.pk}:breach:{recipient}",
                    )
                )
        Notice.objects.bulk_create([notice for notice, _ in built], ignore_conflicts=True)
        notices_deliver_on_commit([delivery for _, delivery in built])
        sweep_batch_before_commit.send(sender=Case, kind=phase, case_ids=[case.pk for case in cases])
    return len(cases)


# PostgreSQL: one statement per batch claims the due cases (the earliest deadline first, through
# the partial index of that deadline; rows another worker holds are skipped), stamps them and
# writes their notices, and returns what the log lines need: no model instance per case. The
# notices are those the portable path writes, payload and dedupe key included.
_SWEEP_SQL = """
WITH due AS (
    SELECT id FROM commitments_case
    WHERE first_response_at IS NULL AND breached_at IS NULL {reminded}
      AND {deadline} <= %(now)s AND status <> %(closed)s
    ORDER BY {deadline}, id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE commitments_case AS c SET {stamp} = %(now)s
    FROM crm_customer AS cu
    WHERE c.id = ANY (ARRAY (SELECT id FROM due)) AND cu.id = c.customer_id
    RETURNING c.id, c.customer_id, cu.code, c.owner_id, c.subject, c.first_response_due_at, c.response_minutes, c.clock
), addressed AS (
    SELECT claimed.*, r.recipient_id FROM claimed
    CROSS JOIN LATERAL (SELECT claimed.owner_id UNION SELECT unnest(%(admins)s::bigint[])) AS r (recipient_id)
), inserted AS (
    INSERT INTO tiering_notice (kind, customer_id, recipient_id, dedupe_key, payload, created_at)
    SELECT %(kind)s, customer_id, recipient_id, {dedupe_key},
           jsonb_build_object('case', id, 'subject', subject, 'due_at', first_response_due_at,
                              'response_minutes', response_minutes, 'clock', clock),
           %(now)s
    FROM addressed
    ON CONFLICT DO NOTHING
    RETURNING customer_id, recipient_id, (payload ->> 'case')::bigint AS case_id, payload::text AS payload
)
SELECT claimed.id, claimed.customer_id, claimed.code, inserted.recipient_id, inserted.payload
FROM claimed LEFT JOIN inserted ON inserted.case_id = claimed.id
"""
_SWEEP_SQL_BY_PHASE = {
    REMINDER: _SWEEP_SQL.format(
        stamp="reminded_at",
        reminded="AND reminded_at IS NULL",
        deadline="reminder_at",
        dedupe_key="'case:' || id || ':reminder'",
    ),
    BREACH: _SWEEP_SQL.format(
        stamp="breached_at",
        reminded="",
        deadline="first_response_due_at",
        dedupe_key="'case:' || id || ':breach:' || recipient_id",
    ),
}


def _batch_postgres(phase: str, now: datetime.datetime, admins: list[int]) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _SWEEP_SQL_BY_PHASE[phase],
            {
                "now": now,
                "closed": str(Case.Status.CLOSED),
                "batch": BATCH,
                # A reminder goes to the owner alone (the admins' part of the UNION is empty).
                "admins": admins if phase == BREACH else [],
                "kind": str(_KIND[phase]),
            },
        )
        rows = cursor.fetchall()
        # The lines notices_deliver would log, written straight from the notices' own JSON.
        notices_lines_deliver_on_commit(
            [
                f'{{"event":"tier_notice","kind":"{_KIND[phase]}","customer_id":{customer_id},'
                f'"customer_code":{json.dumps(code, ensure_ascii=False)},"recipient_id":{recipient},{payload[1:]}'
                for _case, customer_id, code, recipient, payload in rows
                if payload is not None
            ]
        )
        case_ids = list(dict.fromkeys(case_id for case_id, *_rest in rows))
        sweep_batch_before_commit.send(sender=Case, kind=phase, case_ids=case_ids)
    return len(case_ids)


def sla_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    batch = _batch_postgres if connection.vendor == "postgresql" else _batch_portable
    while True:
        claimed = batch(REMINDER, now, [])
        result.reminded += claimed
        if claimed < BATCH:
            break
    if (
        Case.objects.filter(_PENDING[BREACH], first_response_due_at__lte=now)
        .exclude(status=Case.Status.CLOSED)
        .exists()
    ):
        admins = tier_administrators()
        while True:
            claimed = batch(BREACH, now, admins)
            result.breached += claimed
            if claimed < BATCH:
                break
    if result.reminded or result.breached:
        logger.info("SLA sweep: %d reminders, %d breaches", result.reminded, result.breached)
    return result
