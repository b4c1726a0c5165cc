"""What the existing pages show of the workbench (service app): the dashboard's cards, the contact
columns of the customer list, and the customer page's contact plan, follow-ups, letter and timeline.

Reads only, through service.selectors; every block costs a fixed number of queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.clock import local_today
from crm.models import Customer, Interaction
from service import selectors as service_selectors
from service.models import ContactPlan, ContactStatus, LetterDispatch, Task
from tiering.models import Notice, TierChange
from web.flags import flag_label
from web.service_forms import ActivityForm, TaskForm

TIMELINE_PER_PAGE = 20
GRADES = [grade for grade, _label in Customer.ProspectGrade.choices]


def user_may_log_activities(user) -> bool:
    """The permission the API's interactions endpoint asks for (account managers hold it)."""
    return user.has_perm("crm.add_interaction")


def plan_cadence(plan: ContactPlan | None) -> str:
    """A tier's contact plan in words: "every 30 days", "one win-back contact within 30 days"."""
    if plan is None:
        return ""
    if plan.every_days is not None:
        return ngettext("every %(days)d day", "every %(days)d days", plan.every_days) % {"days": plan.every_days}
    return ngettext(
        "one win-back contact within %(days)d day of entering the tier",
        "one win-back contact within %(days)d days of entering the tier",
        plan.win_back_days,
    ) % {"days": plan.win_back_days}


@dataclass(frozen=True)
class ContactView:
    """A customer's standing against the contact plan, as the pages show it."""

    status: ContactStatus | None
    days_overdue: int | None  # > 0: overdue by that many days; None: nothing due

    @property
    def overdue(self) -> bool:
        return bool(self.days_overdue and self.days_overdue > 0)

    @property
    def due_in(self) -> int | None:
        return None if self.days_overdue is None else -self.days_overdue

    @property
    def due_soon(self) -> bool:
        return self.due_in is not None and 0 <= self.due_in <= service_selectors.DUE_SOON_DAYS


def contact_view(customer: Customer, today: datetime.date) -> ContactView:
    """From `customer.contact_status`, prefetched by the caller (no query per row)."""
    try:
        status = customer.contact_status
    except ObjectDoesNotExist:
        status = None
    due_on = status.due_on if status else None
    return ContactView(status=status, days_overdue=service_selectors.days_overdue(due_on, today))


# --- dashboard -----------------------------------------------------------------------------------


def dashboard_cards(user) -> dict:
    """My tasks per bucket, the contact plan per tier, prospects per grade: five queries."""
    grade_counts = service_selectors.prospect_grade_counts(user)
    labels = dict(Customer.ProspectGrade.choices)
    return {
        "task_counts": service_selectors.task_bucket_counts(user),
        "plan_cards": [
            (card, plan_cadence(card.plan)) for card in service_selectors.contact_plan_cards(user) if card.plan
        ],
        "prospect_grades": [(grade, labels[grade], grade_counts.get(grade, 0)) for grade in GRADES],
        "prospects_ungraded": grade_counts.get("", 0),
        "prospects_total": grade_counts.get("total", 0),
    }


# --- customer page -------------------------------------------------------------------------------


def _timeline_kinds(params) -> tuple[str, ...]:
    return tuple(kind for kind in params.getlist("timeline") if kind in service_selectors.TIMELINE_KINDS)


def timeline_kind_choices() -> list[tuple[str, str]]:
    labels = {
        "order": _("Orders"),
        "activity": _("Activities"),
        "survey": _("Surveys"),
        "task": _("Tasks"),
        "tier_change": _("Tier changes"),
        "notice": _("Notices"),
        "letter": _("Letters"),
        "case": _("Cases"),
    }
    return [(kind, labels[kind]) for kind in service_selectors.TIMELINE_KINDS]


@dataclass(frozen=True)
class TimelineRow:
    kind: str
    at: datetime.datetime
    obj: object
    amount: str = ""  # orders: grouped, two places
    warning: str = ""  # early-warning notices: which warning


def customer_timeline(customer: Customer, params) -> dict:
    kinds = _timeline_kinds(params)
    try:
        page = max(int(params.get("timeline_page", 1)), 1)
    except (TypeError, ValueError):
        page = 1
    timeline = service_selectors.customer_timeline(customer, kinds=kinds, page=page, per_page=TIMELINE_PER_PAGE)
    rows = []
    for entry in timeline.entries:
        amount = warning = ""
        if entry.kind == "order":
            amount = f"{float(entry.obj.amount):,.2f}"
        elif entry.kind == "notice" and entry.obj.kind == Notice.Kind.EARLY_WARNING:
            warning = flag_label(str((entry.obj.payload or {}).get("flag", "")))
        rows.append(TimelineRow(entry.kind, entry.at, entry.obj, amount, warning))
    return {
        "timeline": timeline,
        "timeline_rows": rows,
        "timeline_filtered": bool(kinds),
        "timeline_selected": set(kinds),
        "timeline_choices": timeline_kind_choices(),
    }


def customer_workbench(request, customer: Customer, *, last_change: TierChange | None) -> dict:
    """The customer page's contact plan, open follow-ups, forms, letter dispatches and timeline."""
    user = request.user
    today = local_today()
    status = ContactStatus.objects.filter(customer=customer).select_related("tier__contact_plan").first()
    if status is not None:
        plan = getattr(status.tier, "contact_plan", None)
    elif customer.tier_id:
        plan = ContactPlan.objects.filter(tier_id=customer.tier_id).first()
    else:
        plan = None
    downgrade = last_change if last_change and last_change.direction == TierChange.Direction.DOWNGRADE else None
    letters_sent = (
        list(LetterDispatch.objects.filter(customer=customer, change=downgrade).select_related("sent_by"))
        if downgrade
        else []
    )
    may_log = user_may_log_activities(user)
    return {
        "contact": ContactView(
            status=status,
            days_overdue=service_selectors.days_overdue(status.due_on if status else None, today),
        ),
        "contact_plan": plan,
        "contact_cadence": plan_cadence(plan),
        "customer_tasks": list(
            Task.objects.filter(customer=customer, status=Task.Status.OPEN)
            .select_related("owner")
            .order_by("due_at")[:8]
        ),
        "may_log_activities": may_log,
        "activity_form": ActivityForm(auto_id="activity_%s") if may_log else None,
        "quick_kinds": [
            (Interaction.Kind.CALL, _("Log a call")),
            (Interaction.Kind.VISIT, _("Log a visit")),
        ],
        "task_form": TaskForm(user=user, customer=customer, auto_id="task_%s"),
        "letters_sent": letters_sent,
        "is_prospect": customer.cooperation_since is None,
        "now": timezone.now(),
        **customer_timeline(customer, request.GET),
    }
