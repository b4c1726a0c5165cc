"""Keeping each customer's contact status current against its tier's contact plan.

Set-based, in passes over ranges of customers (bounded memory at a million customers): per pass,
one query reads the customers and their tiers, one grouped query per set of counted kinds their
last contact, one their entry into their current tier, one the statuses stored; only the statuses
that differ are written, in batches (after a run most customers keep theirs). Run after
activities are logged (for those customers), after a run (the customers whose tier moved) or an
override (that customer), and after a plan is edited (everyone).
"""

from __future__ import annotations

import datetime
import logging

from celery import signature
from django.db import transaction
from django.db.models import F, Max, Min, Q
from django.db.models.functions import TruncDate

from crm.models import Customer, Interaction
from service.models import ContactPlan, ContactStatus
from tiering.models import TierChange

logger = logging.getLogger(__name__)

BATCH = 5000  # statuses per upsert statement
CUSTOMERS_PER_PASS = 20000


def contact_due_on(
    *, plan: ContactPlan, last_contact_on: datetime.date | None, tier_since: datetime.date
) -> datetime.date | None:
    """The day the next contact is due under `plan`; None when nothing is due (won back)."""
    if plan.every_days is not None:
        return (last_contact_on or tier_since) + datetime.timedelta(days=plan.every_days)
    if last_contact_on is not None and last_contact_on >= tier_since:
        return None
    return tier_since + datetime.timedelta(days=plan.win_back_days)


def _passes(customer_ids: list[int] | None):
    """Filters on a customer id for each pass: id ranges over everyone, or slices of the ids given."""
    if customer_ids is None:
        bounds = Customer.objects.aggregate(first=Min("id"), last=Max("id"))
        if bounds["first"] is None:
            return
        for start in range(bounds["first"], bounds["last"] + 1, CUSTOMERS_PER_PASS):
            yield {"gte": start, "lte": start + CUSTOMERS_PER_PASS - 1}
        return
    ids = sorted({int(pk) for pk in customer_ids})
    for start in range(0, len(ids), CUSTOMERS_PER_PASS):
        yield {"in": ids[start : start + CUSTOMERS_PER_PASS]}


def _on(path: str, scope: dict) -> dict:
    return {f"{path}__{lookup}": value for lookup, value in scope.items()}


def _pass_refresh(scope: dict, plans: dict[int, ContactPlan]) -> int:
    # Days in the business time zone, computed by the database (a 02:00 run is the previous day in UTC).
    customers = list(
        Customer.objects.filter(tier_id__in=list(plans), **_on("id", scope))
        .annotate(created_on=TruncDate("created_at"))
        .values_list("id", "tier_id", "created_on")
    )
    kinds_of = {tier_id: tuple(sorted(plan.contact_kinds)) for tier_id, plan in plans.items()}
    last_contacts: dict[tuple[str, ...], dict[int, datetime.date]] = {}
    for kinds in set(kinds_of.values()):
        last_contacts[kinds] = dict(
            Interaction.objects.filter(kind__in=kinds, **_on("customer_id", scope))
            .values("customer_id")
            .annotate(last=Max("occurred_at"))
            .order_by()
            .values_list("customer_id", "last")
        )
    # The latest change into the tier the customer is in now: when it entered it.
    entered = dict(
        TierChange.objects.filter(to_tier_id=F("customer__tier_id"), **_on("customer_id", scope))
        .values("customer_id")
        .annotate(on=TruncDate(Max("created_at")))
        .order_by()
        .values_list("customer_id", "on")
    )
    stored = {
        row[0]: row[1:]
        for row in ContactStatus.objects.filter(**_on("customer_id", scope)).values_list(
            "customer_id", "tier_id", "last_contact_on", "tier_since", "due_on"
        )
    }
    changed = []
    for customer_id, tier_id, created_on in customers:
        plan = plans[tier_id]
        last_contact_on = last_contacts[kinds_of[tier_id]].get(customer_id)
        # A customer tiered once and never moved since: in its tier since the day it was created.
        tier_since = entered.get(customer_id) or created_on
        due_on = contact_due_on(plan=plan, last_contact_on=last_contact_on, tier_since=tier_since)
        row = (tier_id, last_contact_on, tier_since, due_on)
        if stored.pop(customer_id, None) != row:
            changed.append(
                ContactStatus(
                    customer_id=customer_id,
                    tier_id=tier_id,
                    last_contact_on=last_contact_on,
                    tier_since=tier_since,
                    due_on=due_on,
                )
            )
    ContactStatus.objects.bulk_create(
        changed,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=["tier", "last_contact_on", "tier_since", "due_on"],
    )
    if stored:  # customers of this pass no longer under a plan (no tier, or a tier without one)
        ContactStatus.objects.filter(customer_id__in=list(stored)).delete()
    return len(changed) + len(stored)


@transaction.atomic
def contact_status_refresh(customer_ids: list[int] | None = None) -> int:
    """Bring the contact status of these customers (everyone when None) in line with their tier's
    plan and their activities; returns how many statuses were written or removed. Customers
    without a tier or whose tier has no plan have no status."""
    plans = {plan.tier_id: plan for plan in ContactPlan.objects.all()}
    return sum(_pass_refresh(scope, plans) for scope in _passes(customer_ids))


def contact_statuses_moved() -> list[int]:
    """Customers whose status no longer follows their tier, which is what a run changes: tiered
    under a plan with no status or a status of another tier, or with a status and no plan now."""
    planned = list(ContactPlan.objects.values_list("tier_id", flat=True))
    moved = Customer.objects.filter(tier_id__in=planned).filter(
        Q(contact_status__isnull=True) | ~Q(contact_status__tier_id=F("tier_id"))
    )
    gone = ContactStatus.objects.exclude(customer__tier_id__in=planned)
    return sorted({*moved.values_list("id", flat=True), *gone.values_list("customer_id", flat=True)})


def contact_status_refresh_moved() -> int:
    """After a run: the statuses of the customers whose tier moved (a fifth of them in a typical
    quarter), in two queries more than refreshing those customers; the others keep theirs."""
    return contact_status_refresh(contact_statuses_moved())


@transaction.atomic
def contact_plan_save(*, plan: ContactPlan) -> ContactPlan:
    """Save an administrator's plan after its checks and bring every status in line with it: in a
    task after the commit (seconds at 100,000 customers: not in the admin's request)."""
    plan.full_clean()
    plan.save()
    transaction.on_commit(_statuses_refresh_queue)
    return plan


# The task is sent by name: service.tasks imports this module (services never import the tasks).
REFRESH_ALL_TASK = "service.tasks.contact_status_refresh_all"


def _statuses_refresh_queue() -> None:
    try:
        signature(REFRESH_ALL_TASK).apply_async(retry=False)
    except Exception:  # the broker is down: do it here, slower but never stale
        logger.warning("contact status refresh not queued; refreshing in this process", exc_info=True)
        contact_status_refresh(None)
