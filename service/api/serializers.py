"""Shapes of the workbench endpoints. Rows and tasks are checked by the services (crm.services for
activities, service.services.tasks for tasks); these serializers type the input and name unknown fields."""

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import EARLIEST_DATE, LATEST_DATE, StrictInputSerializer
from crm.models import Interaction
from crm.services.activity import MAX_DURATION_MINUTES
from service import selectors
from service.models import ContactStatus, Task

MOMENT_SCHEMA = {
    "oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
    "description": "A date (YYYY-MM-DD) or a date and time (ISO 8601); never in the future.",
}


@extend_schema_field(MOMENT_SCHEMA)
class MomentField(serializers.CharField):
    """A date or a date and time, passed on as text: crm.services parses it and refuses the future."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)


def datetime_in_range(value: datetime.datetime) -> datetime.datetime:
    """Far years overflow once converted to UTC for storage: keep them out as typos."""
    if not EARLIEST_DATE <= value.date() <= LATEST_DATE:
        raise serializers.ValidationError(
            _("Must be between %(first)s and %(last)s.") % {"first": EARLIEST_DATE, "last": LATEST_DATE}
        )
    return value


# --- activities ---------------------------------------------------------------------------------


class ActivitySerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.code")
    customer_name = serializers.CharField(source="customer.name")
    recorded_by = serializers.CharField(source="recorded_by.username", default=None, allow_null=True)
    outcome = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "customer_name",
            "kind",
            "occurred_at",
            "happened_at",
            "duration_minutes",
            "outcome",
            "note",
            "recorded_by",
            "created_at",
        ]


class ActivityRowSerializer(serializers.Serializer):
    """One activity as sent (for the schema; crm.services checks the rows, the whole batch at once)."""

    customer = serializers.CharField(max_length=20, help_text=gettext_lazy("Customer code."))
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
    occurred_at = MomentField(
        help_text=gettext_lazy("When it happened: a date, or a date and time; not in the future.")
    )
    duration_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_DURATION_MINUTES, required=False, allow_null=True
    )
    outcome = serializers.CharField(max_length=200, required=False, allow_blank=True)
    note = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class ActivityBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text=gettext_lazy("Activities stored by this request."))
    results = ActivitySerializer(many=True, help_text=gettext_lazy("The stored activities, in the order sent."))


# --- tasks ----------------------------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.code")
    customer_name = serializers.CharField(source="customer.name")
    owner = serializers.CharField(source="owner.username")
    contact_kind = serializers.ChoiceField(choices=Interaction.Kind.choices, allow_blank=True)
    notice = serializers.IntegerField(source="notice_id", allow_null=True)
    activity = serializers.IntegerField(
        source="activity_id",
        allow_null=True,
        help_text=gettext_lazy("The activity recorded when the task was completed (contact tasks)."),
    )
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    completed_by = serializers.CharField(source="completed_by.username", default=None, allow_null=True)
    step = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    completion_note = serializers.CharField(allow_blank=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "customer",
            "customer_name",
            "title",
            "owner",
            "due_at",
            "priority",
            "status",
            "source",
            "contact_kind",
            "notice",
            "step",
            "note",
            "completion_note",
            "activity",
            "created_by",
            "created_at",
            "completed_at",
            "completed_by",
            "updated_at",
        ]


OWNER_HELP = gettext_lazy(
    "Username. Default: the customer's account manager. An account manager plans only for themself."
)
CONTACT_KIND_HELP = gettext_lazy("A contact task records an activity of this kind when completed; empty: none.")


class TaskCreateSerializer(StrictInputSerializer):
    customer = serializers.CharField(max_length=20, help_text=gettext_lazy("Customer code."))
    title = serializers.CharField(max_length=200)
    due_at = serializers.DateTimeField(validators=[datetime_in_range])
    owner = serializers.CharField(
        max_length=150, required=False, allow_null=True, allow_blank=True, help_text=OWNER_HELP
    )
    priority = serializers.ChoiceField(choices=Task.Priority.choices, default=Task.Priority.NORMAL)
    contact_kind = serializers.ChoiceField(
        choices=Interaction.Kind.choices, required=False, allow_blank=True, help_text=CONTACT_KIND_HELP
    )
    note = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class TaskUpdateSerializer(StrictInputSerializer):
    """Every field optional: only those sent change."""

    title = serializers.CharField(max_length=200, required=False)
    due_at = serializers.DateTimeField(required=False, validators=[datetime_in_range])
    owner = serializers.CharField(
        max_length=150, required=False, allow_null=True, allow_blank=True, help_text=OWNER_HELP
    )
    priority = serializers.ChoiceField(choices=Task.Priority.choices, required=False)
    contact_kind = serializers.ChoiceField(
        choices=Interaction.Kind.choices, required=False, allow_blank=True, help_text=CONTACT_KIND_HELP
    )
    note = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class TaskCompleteSerializer(StrictInputSerializer):
    note = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    occurred_at = MomentField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Contact tasks: when the contact happened (default: now); not in the future."),
    )
    duration_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DURATION_MINUTES,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Contact tasks: how long the contact took."),
    )
    outcome = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text=gettext_lazy("Contact tasks: what came of it.")
    )


class TaskCancelSerializer(StrictInputSerializer):
    note = serializers.CharField(max_length=10000, required=False, allow_blank=True)


# --- the contact due list -------------------------------------------------------------------------


class ContactDueSerializer(serializers.ModelSerializer):
    """Needs `today` (the business day) in its context."""

    customer = serializers.CharField(source="customer.code")
    customer_name = serializers.CharField(source="customer.name")
    tier = serializers.CharField(source="tier.code")
    tier_name = serializers.CharField(source="tier.name")
    days_overdue = serializers.SerializerMethodField(
        help_text=gettext_lazy("Days past the due day; 0 or negative: not overdue yet (days left).")
    )
    account_manager = serializers.CharField(source="customer.account_manager.username", default=None, allow_null=True)

    class Meta:
        model = ContactStatus
        fields = [
            "customer",
            "customer_name",
            "tier",
            "tier_name",
            "last_contact_on",
            "tier_since",
            "due_on",
            "days_overdue",
            "account_manager",
        ]

    def get_days_overdue(self, status) -> int:
        return selectors.days_overdue(status.due_on, self.context["today"])
