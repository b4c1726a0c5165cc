"""Playbooks: a tier event's steps become tasks for the right people, exactly once per customer,
event and step.

Events come from the notices tiering writes (upgrades, downgrades, early warnings) and the SLA
sweep writes (breaches), read in id order behind a cursor, and from prospects reaching grade A.
The event key names the period (not the run), so a forced rerun of a quarter creates no second
set of tasks; the unique (step, customer, event key) row makes two workers safe.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from commitments.models import Playbook, PlaybookCursor, PlaybookStep, PlaybookTaskLink
from commitments.services.sla import tier_administrators
from crm.models import Customer
from scoring.models import Tier
from service.models import Task
from tiering.models import Notice

SERVICE_TEAM_GROUP = "Service team"
BATCH = 5000
Event = Playbook.Event


@dataclass(frozen=True)
class TierEvent:
    customer_id: int
    tier_id: int | None
    event: str
    key: str
    notice_id: int | None = None


def _warning_event(flag: str) -> str | None:
    return {
        "spend_up": Event.WARNING_SPEND_UP,
        "spend_down": Event.WARNING_SPEND_DOWN,
        "complaints": Event.WARNING_COMPLAINTS,
        "no_order": Event.WARNING_NO_ORDER,
    }.get(flag)


def events_from_notices(notices: list[Notice], *, lowest_tier_id: int | None) -> list[TierEvent]:
    events = []
    for notice in notices:
        change = notice.change
        period = notice.run.period if notice.run_id and notice.run else f"notice{notice.pk}"
        if notice.kind == Notice.Kind.UPGRADE and change is not None:
            events.append(
                TierEvent(
                    notice.customer_id,
                    change.to_tier_id,
                    Event.UPGRADED_INTO,
                    f"up:{change.to_tier_id}:{period}",
                    notice.pk,
                )
            )
        elif notice.kind == Notice.Kind.DOWNGRADE and change is not None:
            events.append(
                TierEvent(
                    notice.customer_id,
                    change.to_tier_id,
                    Event.DOWNGRADED_INTO,
                    f"down:{change.to_tier_id}:{period}",
                    notice.pk,
                )
            )
            if change.to_tier_id == lowest_tier_id:
                events.append(
                    TierEvent(
                        notice.customer_id, change.to_tier_id, Event.BECAME_DORMANT, f"dormant:{period}", notice.pk
                    )
                )
        elif notice.kind == Notice.Kind.EARLY_WARNING:
            event = _warning_event(str(notice.payload.get("flag", "")))
            if event:
                events.append(
                    TierEvent(
                        notice.customer_id,
                        notice.customer.tier_id,
                        event,
                        f"warning:{notice.dedupe_key or notice.pk}",
                        notice.pk,
                    )
                )
        elif notice.kind == Notice.Kind.CASE_BREACH and notice.recipient_id is not None:
            case_id = notice.payload.get("case")
            events.append(
                TierEvent(
                    notice.customer_id, notice.customer.tier_id, Event.CASE_BREACHED, f"case:{case_id}", notice.pk
                )
            )
    return events


def _owners(customers: dict[int, Customer]) -> tuple[dict[int, int | None], int | None, int | None]:
    admins = sorted(tier_administrators())
    team = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=SERVICE_TEAM_GROUP)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    managers = {pk: c.account_manager_id for pk, c in customers.items()}
    return managers, (admins[0] if admins else None), team


def playbooks_apply(events: list[TierEvent], *, now: datetime.datetime | None = None) -> int:
    """Create the tasks of every matching active playbook step for these events; returns how many."""
    if not events:
        return 0
    now = now or timezone.now()
    playbooks = list(
        Playbook.objects.filter(active=True, event__in={e.event for e in events}).prefetch_related("steps")
    )
    if not playbooks:
        return 0
    tiers = {t.pk: t for t in Tier.objects.all()}
    links = []
    for event in events:
        for playbook in playbooks:
            if playbook.event == event.event and playbook.tier_id in (None, event.tier_id):
                links.extend(
                    PlaybookTaskLink(step=step, customer_id=event.customer_id, event_key=event.key)
                    for step in playbook.steps.all()
                )
    with transaction.atomic():
        PlaybookTaskLink.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
        pending = PlaybookTaskLink.objects.filter(
            task__isnull=True,
            customer_id__in={e.customer_id for e in events},
            event_key__in={e.key for e in events},
        ).select_related("step", "step__playbook")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True, of=("self",))
        pending = list(pending)
        if not pending:
            return 0
        customers = Customer.objects.in_bulk({link.customer_id for link in pending})
        managers, admin, team = _owners(customers)
        notice_of = {(e.customer_id, e.key): e.notice_id for e in events}
        tier_of = {(e.customer_id, e.key): e.tier_id for e in events}
        tasks = []
        for link in pending:
            step: PlaybookStep = link.step
            manager = managers.get(link.customer_id)
            owner = {
                PlaybookStep.OwnerRole.ACCOUNT_MANAGER: manager or admin,
                PlaybookStep.OwnerRole.SERVICE_TEAM: team or manager or admin,
                PlaybookStep.OwnerRole.TIER_ADMIN: admin or manager,
            }[step.owner_role]
            if owner is None:
                continue  # nobody to give it to; the link stays open for when someone is
            tier = tiers.get(tier_of.get((link.customer_id, link.event_key)))
            due_in = (
                datetime.timedelta(days=step.due_days)
                if step.due_days is not None
                else datetime.timedelta(minutes=tier.first_response_minutes if tier else 24 * 60)
            )
            tasks.append(
                (
                    link,
                    Task(
                        customer_id=link.customer_id,
                        title=step.action[:200],
                        owner_id=owner,
                        due_at=now + due_in,
                        priority=Task.Priority.HIGH,
                        source=Task.Source.PLAYBOOK,
                        contact_kind=step.contact_kind,
                        notice_id=notice_of.get((link.customer_id, link.event_key)),
                        step=f"playbook:{step.pk}",
                        note=" · ".join(part for part in (step.goal, step.kpi) if part),
                    ),
                )
            )
        Task.objects.bulk_create([task for _, task in tasks], batch_size=BATCH)
        for link, task in tasks:
            link.task = task
        PlaybookTaskLink.objects.bulk_update([link for link, _ in tasks], ["task"], batch_size=BATCH)
    return len(tasks)


def playbooks_sweep() -> int:
    """Apply playbooks to notices written since the last sweep; returns the tasks created."""
    cursor, _created = PlaybookCursor.objects.get_or_create(pk=1)
    lowest = Tier.objects.order_by("-rank").values_list("pk", flat=True).first()
    created = 0
    start = cursor.last_notice_id
    while True:
        notices = list(
            Notice.objects.filter(pk__gt=start)
            .filter(Q(change__isnull=False) | Q(kind__in=[Notice.Kind.EARLY_WARNING, Notice.Kind.CASE_BREACH]))
            .select_related("change", "run", "customer")
            .order_by("pk")[:BATCH]
        )
        if not notices:
            break
        created += playbooks_apply(events_from_notices(notices, lowest_tier_id=lowest))
        start = notices[-1].pk
        PlaybookCursor.objects.filter(pk=1, last_notice_id__lt=start).update(last_notice_id=start)
    return created


def prospects_grade_a(customer_ids: list[int]) -> int:
    """Prospects now graded A get the grade-A playbook once."""
    ids = Customer.objects.filter(pk__in=customer_ids, cooperation_since__isnull=True, prospect_grade="A").values_list(
        "pk", flat=True
    )
    return playbooks_apply([TierEvent(pk, None, Event.PROSPECT_GRADE_A, "prospect:A") for pk in ids])


def service_team_group() -> Group:
    group, _created = Group.objects.get_or_create(name=SERVICE_TEAM_GROUP)
    return group
