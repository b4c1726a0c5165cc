"""Keeping each customer's contact status current against its tier's contact plan.

Set-based: one query per tier reads every customer's last counted contact and the day it entered
the tier; the statuses are written in batches. Run after activities are logged (for those
customers), after a run or an override (for everyone or those customers), and after a plan is
edited (everyone).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import DateField, Max, OuterRef, Q, Subquery
from django.db.models.functions import Cast, TruncDate

from crm.models import Customer, Interaction
from service.models import ContactPlan, ContactStatus
from tiering.models import TierChange

BATCH = 5000


def contact_due_on(
    *, plan: ContactPlan, last_contact_on: datetime.date | None, tier_since: datetime.date
) -> datetime.date | None:
    """The day the next contact is due under `plan`; None when nothing is due (won back)."""
    if plan.every_days is not None:
        return (last_contact_on or tier_since) + datetime.timedelta(days=plan.every_days)
    if last_contact_on is not None and last_contact_on >= tier_since:
        return None
    return tier_since + datetime.timedelta(days=plan.win_back_days)


def _rows_for_plan(plan: ContactPlan, customers):
    last_contact = (
        Interaction.objects.filter(customer=OuterRef("pk"), kind__in=plan.contact_kinds)
        .values("customer")
        .annotate(last=Max("occurred_at"))
        .values("last")
    )
    entered = (
        TierChange.objects.filter(customer=OuterRef("pk"), to_tier_id=plan.tier_id)
        .values("customer")
        .annotate(last=Max("created_at"))
        .values("last")
    )
    return (
        customers.filter(tier_id=plan.tier_id)
        .annotate(
            last_contact_on=Subquery(last_contact[:1], output_field=DateField()),
            entered_at=Subquery(entered[:1]),
            created_on=Cast(TruncDate("created_at"), DateField()),
        )
        .values_list("id", "last_contact_on", "entered_at", "created_on")
    )


@transaction.atomic
def contact_status_refresh(customer_ids: list[int] | None = None) -> int:
    """Recompute the contact status of these customers (everyone when None); returns rows written.
    Customers without a tier or whose tier has no plan have no status."""
    customers = Customer.objects.all() if customer_ids is None else Customer.objects.filter(id__in=customer_ids)
    stale = (
        ContactStatus.objects.all()
        if customer_ids is None
        else ContactStatus.objects.filter(customer_id__in=customer_ids)
    )
    written = 0
    kept: list[int] = []
    for plan in ContactPlan.objects.select_related("tier"):
        statuses = []
        for customer_id, last_contact_on, entered_at, created_on in _rows_for_plan(plan, customers).iterator(
            chunk_size=BATCH
        ):
            tier_since = entered_at.date() if entered_at is not None else created_on
            statuses.append(
                ContactStatus(
                    customer_id=customer_id,
                    tier_id=plan.tier_id,
                    last_contact_on=last_contact_on,
                    tier_since=tier_since,
                    due_on=contact_due_on(plan=plan, last_contact_on=last_contact_on, tier_since=tier_since),
                )
            )
            kept.append(customer_id)
        ContactStatus.objects.bulk_create(
            statuses,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=["tier", "last_contact_on", "tier_since", "due_on"],
        )
        written += len(statuses)
    if customer_ids is None:
        stale.filter(Q(customer__tier__isnull=True) | Q(customer__tier__contact_plan__isnull=True)).delete()
    else:
        stale.exclude(customer_id__in=kept).delete()
    return written


@transaction.atomic
def contact_plan_save(*, plan: ContactPlan) -> ContactPlan:
    """Save an administrator's plan after its checks and bring every status in line with it."""
    plan.full_clean()
    plan.save()
    transaction.on_commit(lambda: contact_status_refresh(None))
    return plan
