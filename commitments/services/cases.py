"""Cases: opened with the clock of the customer's tier at that moment, answered, resolved, closed.

A complaint case is its complaint activity: opening one records the complaint through crm's one
activity write path (so it counts for the complaints early warning), and a complaint logged as
an activity can be opened as a case without a second complaint being recorded.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments import clock
from commitments.models import Case, CaseReply, ServiceLevel
from commitments.services.calendars import hours_by_tier, hours_of
from core.access import customers_visible_to, user_sees_all_customers
from core.exceptions import ConflictError, DomainError
from crm.models import Customer, Interaction
from crm.services import interactions_record, surveys_record
from scoring.models import Tier
from service.services.tasks import owner_resolve

REMINDER_SHARE = 0.8  # the owner is reminded when 80% of the response time has passed
SATISFACTION_SCORES = {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1}
TRANSITIONS = {
    # Closing straight away resolves the case too (with its resolution).
    Case.Status.OPEN: {Case.Status.IN_PROGRESS, Case.Status.RESOLVED, Case.Status.CLOSED},
    Case.Status.IN_PROGRESS: {Case.Status.RESOLVED, Case.Status.CLOSED},
    Case.Status.RESOLVED: {Case.Status.CLOSED, Case.Status.IN_PROGRESS},
    Case.Status.CLOSED: set(),
}


def _invalid(fields: dict, message: str | None = None) -> DomainError:
    return DomainError(message or _("The case has invalid fields."), code="invalid", fields=fields)


def service_clock(
    tier: Tier | None, opened_at: datetime.datetime
) -> tuple[int, str, datetime.datetime, datetime.datetime]:
    """(minutes, clock, first response due, reminder moment) for a case opened now for a customer
    in `tier`: the tier's first-response time, run 24×7 or in its calendar's business hours."""
    level = (
        ServiceLevel.objects.select_related("calendar").filter(tier=tier).first()
        if tier is not None
        else ServiceLevel.objects.select_related("calendar").filter(tier__isnull=True).first()
    )
    if tier is not None:
        minutes = tier.first_response_minutes
    elif level is not None and level.response_minutes:
        minutes = level.response_minutes
    else:
        minutes = 24 * 60
    if level is None or level.clock == ServiceLevel.Clock.ALWAYS or level.calendar is None:
        return (
            minutes,
            ServiceLevel.Clock.ALWAYS,
            clock.add_around_the_clock(opened_at, minutes),
            clock.add_around_the_clock(opened_at, minutes * REMINDER_SHARE),
        )
    hours = hours_of(level.calendar)
    return (
        minutes,
        ServiceLevel.Clock.BUSINESS,
        clock.add_business_minutes(opened_at, minutes, hours),
        clock.add_business_minutes(opened_at, minutes * REMINDER_SHARE, hours),
    )


def _customer_resolve(value, user, errors: dict) -> Customer | None:
    customers = Customer.objects.select_related("account_manager", "tier")
    if user is not None:
        customers = customers_visible_to(user, customers)
    code = value.code if isinstance(value, Customer) else str(value or "").strip()
    if not code:
        errors["customer"] = [_("A customer code is required.")]
        return None
    found = customers.filter(code=code).first()
    if found is None:
        errors["customer"] = [_("Unknown customer %(code)r.") % {"code": code}]
    return found


def _choice(value, choices, name: str, errors: dict, *, required: bool = True):
    if value in (None, "") and not required:
        return ""
    if isinstance(value, str) and value.strip().isdigit() and all(isinstance(c, int) for c in choices.values):
        value = int(value)
    if isinstance(value, bool) or value not in choices.values:
        errors[name] = [
            _("%(value)r is not one of %(choices)s.") % {"value": value, "choices": ", ".join(map(str, choices.values))}
        ]
    return value


def _text(value, name: str, errors: dict, *, max_length: int, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        errors[name] = [_("Text is required.")]
        return ""
    text = (value or "").strip()
    if required and not text:
        errors[name] = [_("This field is required.")]
    elif len(text) > max_length:
        errors[name] = [_("At most %(max)d characters are allowed.") % {"max": max_length}]
    return text


@transaction.atomic
def case_open(
    *,
    customer,
    kind: str,
    subject: str,
    description: str = "",
    severity: int = Case.Severity.NORMAL,
    channel: str = Case.Channel.PHONE,
    owner=None,
    user=None,
    activity: Interaction | None = None,
    opened_at: datetime.datetime | None = None,
) -> Case:
    """Open a case; its first-response clock comes from the customer's tier now. A complaint
    records its complaint activity (or takes the one given) so it is counted exactly once."""
    errors: dict = {}
    customer = _customer_resolve(customer, user, errors)
    kind = _choice(kind, Case.Kind, "kind", errors)
    severity = _choice(severity, Case.Severity, "severity", errors)
    channel = _choice(channel, Case.Channel, "channel", errors)
    subject = _text(subject, "subject", errors, max_length=200, required=True)
    description = _text(description, "description", errors, max_length=20000, required=False)
    owner = owner_resolve(owner, customer, user, errors, managers_plan_for_themselves=False)
    if activity is not None and customer is not None:
        if activity.customer_id != customer.pk or activity.kind != Interaction.Kind.COMPLAINT:
            errors["activity"] = [_("Only a complaint of this customer can be opened as its case.")]
        elif Case.objects.filter(activity=activity).exists():
            errors["activity"] = [_("This complaint already has a case.")]
    if errors:
        raise _invalid(errors)
    opened_at = opened_at or timezone.now()
    if kind == Case.Kind.COMPLAINT and activity is None:
        activity = interactions_record(
            rows=[
                {
                    "customer": customer,
                    "kind": Interaction.Kind.COMPLAINT,
                    "occurred_at": opened_at,
                    "note": subject if not description else f"{subject}\n\n{description}",
                }
            ],
            recorded_by=user if user and user.is_authenticated else None,
        ).objects[0]
    tier = customer.tier
    minutes, clock_kind, due, reminder = service_clock(tier, opened_at)
    return Case.objects.create(
        customer=customer,
        kind=kind,
        severity=severity,
        channel=channel,
        subject=subject,
        description=description,
        owner=owner,
        opened_at=opened_at,
        activity=activity,
        tier=tier,
        response_minutes=minutes,
        clock=clock_kind,
        first_response_due_at=due,
        reminder_at=reminder,
        created_by=user if user and user.is_authenticated else None,
    )


def _first_response(case: Case, moment: datetime.datetime, hours: dict) -> None:
    """Stop the first-response clock at `moment`; `hours` is hours_by_tier for the case's tier."""
    if case.first_response_at is None:
        case.first_response_at = moment
        business = hours.get(case.tier_id) if case.clock == ServiceLevel.Clock.BUSINESS else None
        if business is not None:
            minutes = clock.business_minutes_between(case.opened_at, moment, business)
        else:
            minutes = clock.minutes_around_the_clock(case.opened_at, moment)
        case.first_response_seconds = round(minutes * 60)
        if case.status == Case.Status.OPEN:
            case.status = Case.Status.IN_PROGRESS


def _hours_for(case: Case) -> dict:
    """The hours for stopping this case's clock; no query once it has stopped."""
    return hours_by_tier({case.tier_id}) if case.first_response_at is None else {}


@transaction.atomic
def case_respond(*, case: Case, user, body: str) -> CaseReply:
    """A staff reply; the first one stops the first-response clock."""
    errors: dict = {}
    body = _text(body, "body", errors, max_length=20000, required=True)
    if errors:
        raise _invalid(errors)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status == Case.Status.CLOSED:
        raise ConflictError(_("This case is closed."), code="case_closed", fields={"status": [case.status]})
    reply = CaseReply.objects.create(case=case, author=user, body=body)
    _first_response(case, reply.created_at, _hours_for(case))
    case.save()
    return reply


@transaction.atomic
def case_transition(*, case: Case, status: str, user, resolution: str = "", satisfaction: str = "") -> Case:
    """Move a case on: open → in progress → resolved → closed (resolved may reopen to in
    progress). Resolving or closing needs a resolution; a satisfaction grade at close is stored
    as a survey (A = 5 ... E = 1), so it feeds the satisfaction metric."""
    errors: dict = {}
    status = _choice(status, Case.Status, "status", errors)
    satisfaction = _choice(satisfaction, Case.Satisfaction, "satisfaction", errors, required=False)
    resolution = _text(resolution, "resolution", errors, max_length=20000, required=False)
    if satisfaction and status != Case.Status.CLOSED and "status" not in errors:
        errors["satisfaction"] = [_("A satisfaction grade is given when the case is closed.")]
    if errors:
        raise _invalid(errors)
    case = Case.objects.select_for_update().select_related("customer").get(pk=case.pk)
    if status not in TRANSITIONS[case.status]:
        raise ConflictError(
            _("A case that is %(from)s cannot become %(to)s.")
            % {"from": case.get_status_display(), "to": Case.Status(status).label},
            code="invalid_transition",
            fields={
                "status": [_("Allowed next: %(next)s.") % {"next": ", ".join(sorted(TRANSITIONS[case.status])) or "-"}]
            },
        )
    resolution = resolution or case.resolution
    if status in (Case.Status.RESOLVED, Case.Status.CLOSED) and not resolution:
        raise _invalid({"resolution": [_("Say how the case was resolved.")]}, _("A resolution is required."))
    now = timezone.now()
    if status == Case.Status.IN_PROGRESS:
        case.resolved_at = None
    if status == Case.Status.RESOLVED:
        case.resolved_at = now
    if status == Case.Status.CLOSED:
        case.closed_at = now
        case.resolved_at = case.resolved_at or now
        if satisfaction:
            survey = surveys_record(
                rows=[
                    {
                        "customer": case.customer,
                        "score": SATISFACTION_SCORES[satisfaction],
                        "surveyed_at": timezone.localdate(now),
                        "channel": "case",
                    }
                ]
            ).objects[0]
            case.survey = survey
            case.satisfaction = satisfaction
    if status != Case.Status.OPEN and user is not None:
        _first_response(case, now, _hours_for(case))
    case.status = status
    case.resolution = resolution
    case.save()
    return case


def cases_first_response_from_activities(customer_ids: list[int]) -> int:
    """An activity logged by staff after a case opened is its first response (the complaint
    that opened it is not): for every open, unanswered case of these customers, in a few queries."""
    cases = list(
        Case.objects.filter(customer_id__in=customer_ids, first_response_at__isnull=True)
        .exclude(status=Case.Status.CLOSED)
        .only("id", "customer_id", "opened_at", "activity_id", "status", "tier_id", "clock", "first_response_at")
    )
    if not cases:
        return 0
    hours = hours_by_tier({case.tier_id for case in cases if case.clock == ServiceLevel.Clock.BUSINESS})
    earliest = min(case.opened_at for case in cases)
    activities = list(
        Interaction.objects.filter(
            customer_id__in={case.customer_id for case in cases}, recorded_by__isnull=False, created_at__gte=earliest
        )
        # A complaint is the customer speaking (perhaps another case), not staff answering.
        .exclude(kind=Interaction.Kind.COMPLAINT)
        .order_by("created_at")
        .values_list("id", "customer_id", "created_at")
    )
    answered = []
    for case in cases:
        first = next(
            (
                at
                for pk, customer_id, at in activities
                if customer_id == case.customer_id and at >= case.opened_at and pk != case.activity_id
            ),
            None,
        )
        if first is not None:
            _first_response(case, first, hours)
            answered.append(case)
    Case.objects.bulk_update(answered, ["first_response_at", "first_response_seconds", "status"])
    return len(answered)


def user_may_handle_case(user, case: Case) -> bool:
    return user_sees_all_customers(user) or case.customer.account_manager_id == getattr(user, "pk", None)
