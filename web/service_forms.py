"""Forms of the account managers' workbench: activities, follow-up tasks, the lists' filters.

They only parse what a person typed. What is allowed (no activity in the future, a manager plans
tasks for themself, a duration within a day...) is the services' rule: their refusals come back
as errors beside the fields they name (`add_domain_error`)."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.access import user_sees_all_customers
from core.exceptions import DomainError
from crm.models import Customer, Interaction
from scoring.models import Tier
from service.models import Task

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> reads and writes


def datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


def now_minute() -> datetime.datetime:
    """Now in the active time zone, to the minute (what a datetime-local input shows)."""
    return timezone.localtime().replace(second=0, microsecond=0)


class DomainErrorFormMixin:
    """A service's refusal as errors on the fields it names. Batch errors (crm.services' activity
    rows) name their field per row; anything a form does not have goes to its top."""

    def add_domain_error(self, error: DomainError) -> None:
        fields = error.fields or {}
        if error.code == "invalid_batch" and isinstance(fields.get("rows"), list) and fields["rows"]:
            for item in fields["rows"]:
                name = item.get("field", "")
                self.add_error(name if name in self.fields else None, str(item.get("message", "")))
            return
        if not fields or set(fields) - set(self.fields):
            # A refusal about something the form does not show (the task's state...): its message.
            self.add_error(None, error.message)
        for name, messages in fields.items():
            if name in self.fields:
                for message in messages if isinstance(messages, list | tuple) else [messages]:
                    self.add_error(name, str(message))


class ActivityForm(DomainErrorFormMixin, forms.Form):
    """A visit, call, e-mail, meeting, complaint... that happened: written by
    crm.services.interactions_record, the one path the API and the imports use too."""

    kind = forms.ChoiceField(label=_("Activity"), choices=Interaction.Kind.choices)
    occurred_at = forms.DateTimeField(
        label=_("When"),
        widget=datetime_input(),
        help_text=_("Not in the future: plan a follow-up task for what is still to come."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": 1440, "step": 1, "inputmode": "numeric"}),
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. agreed to a renewal meeting")}),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, kind: str = "", **kwargs):
        kwargs.setdefault("initial", {"kind": kind or Interaction.Kind.CALL, "occurred_at": now_minute()})
        super().__init__(*args, **kwargs)

    def row(self, customer: Customer) -> dict:
        data = self.cleaned_data
        return {
            "customer": customer.code,
            "kind": data["kind"],
            "occurred_at": data["occurred_at"],
            "duration_minutes": data["duration_minutes"],
            "outcome": data["outcome"],
            "note": data["note"],
        }


def task_owner_choices(user, customer: Customer | None):
    """Who a task may be planned for: an account manager plans for themself; those who see every
    customer, for any active user."""
    users = get_user_model().objects.filter(is_active=True)
    if not user_sees_all_customers(user):
        return users.filter(pk=user.pk)
    return users.order_by("username")


def contact_kind_choices():
    return [("", _("None: nothing to record")), *Interaction.Kind.choices]


class TaskForm(DomainErrorFormMixin, forms.Form):
    """A follow-up to plan: written by service.services.tasks.task_create."""

    title = forms.CharField(label=_("Title"), max_length=200)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, to_field_name="username", required=False)
    due_at = forms.DateTimeField(label=_("Due"), widget=datetime_input())
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Task.Priority.choices, coerce=int, initial=Task.Priority.NORMAL
    )
    contact_kind = forms.ChoiceField(
        label=_("Contact to record when done"),
        choices=contact_kind_choices,
        required=False,
        help_text=_("Completing the task then logs this activity, which counts towards the contact plan."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, customer: Customer, **kwargs):
        tomorrow = now_minute().replace(hour=10, minute=0) + datetime.timedelta(days=1)
        owner = customer.account_manager if user_sees_all_customers(user) else user
        kwargs.setdefault(
            "initial",
            {
                "owner": owner or user,
                "due_at": tomorrow,
                "priority": Task.Priority.NORMAL,
                "contact_kind": Interaction.Kind.CALL,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = task_owner_choices(user, customer)
        self.fields["owner"].empty_label = _("The account manager")
        self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.get_username()

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "owner": data["owner"],
            "due_at": data["due_at"],
            "priority": data["priority"],
            "contact_kind": data["contact_kind"],
            "note": data["note"],
        }


class TaskCompleteForm(DomainErrorFormMixin, forms.Form):
    """Done, with a note; a contact task also says when it happened, how long, and how it went
    (service.services.tasks.task_complete records the activity)."""

    note = forms.CharField(label=_("What was done"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    occurred_at = forms.DateTimeField(label=_("When"), required=False, widget=datetime_input())
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": 1440, "step": 1, "inputmode": "numeric"}),
    )
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=200)

    def __init__(self, *args, task: Task, **kwargs):
        kwargs.setdefault("initial", {"occurred_at": now_minute()})
        super().__init__(*args, **kwargs)
        self.task = task
        if not task.contact_kind:
            for name in ("occurred_at", "duration_minutes", "outcome"):
                del self.fields[name]

    def values(self) -> dict:
        data = self.cleaned_data
        values = {"note": data.get("note", "")}
        if self.task.contact_kind:
            values.update(
                occurred_at=data.get("occurred_at"),
                duration_minutes=data.get("duration_minutes"),
                outcome=data.get("outcome", ""),
            )
        return values


class TaskCancelForm(DomainErrorFormMixin, forms.Form):
    note = forms.CharField(label=_("Why cancelled"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


# --- list filters ------------------------------------------------------------------------------------


CONTACT_STATES = [("", _("All with a contact due")), ("overdue", _("Overdue")), ("due", _("Due within 7 days"))]


class ContactDueFilter(forms.Form):
    state = forms.ChoiceField(label=_("Show"), choices=CONTACT_STATES, required=False)
    tier = forms.ModelChoiceField(
        label=_("Tier"), queryset=Tier.objects.order_by("rank"), to_field_name="code", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].empty_label = _("All tiers")


class ProspectFilter(forms.Form):
    grade = forms.ChoiceField(
        label=_("Pipeline grade"), choices=[("", _("All grades")), *Customer.ProspectGrade.choices], required=False
    )
