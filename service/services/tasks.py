"""Follow-up tasks: planned, edited, completed (a contact task records its activity) or cancelled."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.access import customers_visible_to, user_sees_all_customers
from core.exceptions import ConflictError, DomainError
from crm.models import Customer, Interaction
from crm.services import interactions_record
from scoring.models import Tier
from service import next_steps
from service.models import Task
from tiering.models import Notice

TASK_FIELDS = frozenset({"customer", "title", "owner", "due_at", "priority", "contact_kind", "note", "source"})
UPDATE_FIELDS = frozenset({"title", "owner", "due_at", "priority", "contact_kind", "note"})


def _invalid(fields: dict) -> DomainError:
    return DomainError(_("The task has invalid fields."), code="invalid", fields=fields)


def _due_parse(value, errors: dict):
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None:
            errors["due_at"] = [_("%(value)r is not a date and time (ISO 8601).") % {"value": value}]
            return None
    else:
        errors["due_at"] = [_("A due date and time is required.")]
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def owner_resolve(value, customer: Customer | None, user, errors: dict, *, managers_plan_for_themselves: bool = True):
    """The owner of a task or case: a user given (instance, id or username), by default the account
    manager; one who would see the customer. With `managers_plan_for_themselves`, a manager (who
    does not see every customer) may only name themself."""
    User = get_user_model()
    if value in (None, ""):
        owner = (customer.account_manager if customer is not None else None) or (
            user if user and user.is_authenticated else None
        )
    elif isinstance(value, User):
        owner = value
    else:
        lookup = {"pk": value} if isinstance(value, int) or str(value).isdigit() else {"username": str(value)}
        owner = User.objects.filter(is_active=True, **lookup).first()
        if owner is None:
            errors["owner"] = [_("Unknown user %(value)r.") % {"value": value}]
            return None
    if owner is None:
        errors["owner"] = [_("An owner is required: this customer has no account manager.")]
        return None
    if managers_plan_for_themselves and user is not None and not user_sees_all_customers(user) and owner != user:
        errors["owner"] = [_("You may only plan tasks for yourself.")]
        return None
    if customer is not None and not (user_sees_all_customers(owner) or customer.account_manager_id == owner.pk):
        # The owner would never see it: tasks and cases are seen by those who see their customer.
        errors["owner"] = [_("%(user)s does not manage this customer.") % {"user": owner.get_username()}]
        return None
    return owner


def _clean(values: dict, *, customer: Customer | None, user, errors: dict) -> dict:
    cleaned = {}
    if "title" in values:
        title = str(values.get("title") or "").strip()
        if not title:
            errors["title"] = [_("A title is required.")]
        elif len(title) > 200:
            errors["title"] = [_("At most %(max)d characters are allowed.") % {"max": 200}]
        cleaned["title"] = title
    if "due_at" in values:
        cleaned["due_at"] = _due_parse(values.get("due_at"), errors)
    if "owner" in values:
        cleaned["owner"] = owner_resolve(values.get("owner"), customer, user, errors)
    if "priority" in values:
        priority = values.get("priority")
        valid = {choice for choice in Task.Priority.values}
        if isinstance(priority, str) and priority.strip().isdigit():
            priority = int(priority)
        if isinstance(priority, bool) or priority not in valid:
            errors["priority"] = [_("Priority must be one of %(values)s.") % {"values": sorted(valid)}]
        cleaned["priority"] = priority
    if "contact_kind" in values:
        kind = str(values.get("contact_kind") or "").strip()
        if kind and kind not in Interaction.Kind.values:
            errors["contact_kind"] = [
                _("Unknown kind %(kind)r; expected one of %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(sorted(Interaction.Kind.values))}
            ]
        cleaned["contact_kind"] = kind
    if "note" in values:
        cleaned["note"] = str(values.get("note") or "")
        if len(cleaned["note"]) > 10000:
            errors["note"] = [_("At most %(max)d characters are allowed.") % {"max": 10000}]
    return cleaned


def _customer_resolve(value, user, errors: dict) -> Customer | None:
    customers = Customer.objects.select_related("account_manager")
    if user is not None:
        customers = customers_visible_to(user, customers)
    if isinstance(value, Customer):
        found = customers.filter(pk=value.pk).first()
    elif isinstance(value, str) and value.strip():
        found = customers.filter(code=value.strip()).first()
    else:
        errors["customer"] = [_("A customer code is required.")]
        return None
    if found is None:
        errors["customer"] = [_("Unknown customer %(code)r.") % {"code": getattr(value, "code", value)}]
    return found


@transaction.atomic
def task_create(
    *,
    customer,
    title: str,
    due_at,
    owner=None,
    priority: int = Task.Priority.NORMAL,
    contact_kind: str = "",
    note: str = "",
    source: str = Task.Source.MANUAL,
    notice: Notice | None = None,
    step: str = "",
    user=None,
) -> Task:
    """Plan a follow-up. `user` (None: the system) must see the customer; a manager plans for themself."""
    errors: dict = {}
    customer = _customer_resolve(customer, user, errors)
    cleaned = _clean(
        {
            "title": title,
            "due_at": due_at,
            "owner": owner,
            "priority": priority,
            "contact_kind": contact_kind,
            "note": note,
        },
        customer=customer,
        user=user,
        errors=errors,
    )
    if source not in Task.Source.values:
        errors["source"] = [_("Unknown source %(value)r.") % {"value": source}]
    if errors:
        raise _invalid(errors)
    task = Task(
        customer=customer, source=source, notice=notice, step=step, created_by=user if user else None, **cleaned
    )
    try:
        with transaction.atomic():
            task.save()
    except IntegrityError:
        raise ConflictError(
            _("This next step has already been planned."), code="already_planned", fields={"step": [step]}
        ) from None
    return task


def _open(task: Task) -> None:
    if task.status != Task.Status.OPEN:
        raise ConflictError(
            _("This task is %(status)s; only open tasks change.") % {"status": task.get_status_display()},
            code="task_closed",
            fields={"status": [task.status]},
        )


@transaction.atomic
def task_update(*, task: Task, user=None, **values) -> Task:
    unknown = set(values) - UPDATE_FIELDS
    if unknown:
        raise _invalid({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    _open(task)
    errors: dict = {}
    cleaned = _clean(values, customer=task.customer, user=user, errors=errors)
    if errors:
        raise _invalid(errors)
    for name, value in cleaned.items():
        setattr(task, name, value)
    task.save()
    return task


@transaction.atomic
def task_complete(*, task: Task, user, note: str = "", occurred_at=None, duration_minutes=None, outcome: str = ""):
    """Mark done; a contact task records its activity (through the one activity write path, so
    a complaint raises its warning), dated now unless the caller says when it happened."""
    _open(task)
    task = Task.objects.select_for_update().select_related("customer").get(pk=task.pk)
    _open(task)
    if len(note) > 10000:
        raise _invalid({"note": [_("At most %(max)d characters are allowed.") % {"max": 10000}]})
    if task.contact_kind:
        row = {
            "customer": task.customer,
            "kind": task.contact_kind,
            "occurred_at": occurred_at or timezone.now(),
            "note": note or task.title,
            "duration_minutes": duration_minutes,
            "outcome": outcome,
        }
        try:
            result = interactions_record(rows=[row], recorded_by=user)
        except DomainError as exc:  # one activity: its problems by field, as for the task's own fields
            if exc.code != "invalid_batch":
                raise
            fields: dict = {}
            for error in exc.fields.get("rows", []):
                fields.setdefault(error["field"], []).append(error["message"])
            raise _invalid(fields) from None
        task.activity = result.objects[0]
    task.status = Task.Status.DONE
    task.completion_note = note
    task.completed_at = timezone.now()
    task.completed_by = user
    task.save()
    return task


@transaction.atomic
def task_cancel(*, task: Task, user, note: str = "") -> Task:
    _open(task)
    task.status = Task.Status.CANCELLED
    task.completion_note = note
    task.completed_at = timezone.now()
    task.completed_by = user
    task.save()
    return task


def task_from_notice(*, notice: Notice, step_key: str, user) -> Task:
    """Plan one of a notice's next steps (each once per notice) for the customer's manager."""
    customer = notice.customer
    tier = Tier.objects.filter(pk=customer.tier_id).first()
    top_tier_id = Tier.objects.order_by("rank").values_list("pk", flat=True).first()
    steps = {step.key: step for step in next_steps.next_steps_for(notice, tier=tier, top_tier_id=top_tier_id)}
    step = steps.get(step_key)
    if step is None:
        raise _invalid({"step": [_("This notice offers no step %(step)r.") % {"step": step_key}]})
    return task_create(
        customer=customer,
        title=str(step.label),
        due_at=timezone.now() + step.due_in,
        owner=None,
        priority=Task.Priority.HIGH,
        contact_kind=step.contact_kind,
        source=step.source,
        notice=notice,
        step=step.key,
        user=user,
    )
