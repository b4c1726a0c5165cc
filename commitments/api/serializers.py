"""Shapes of the cases, playbooks and results endpoints. Cases are checked by the services
(commitments.services.cases); these serializers type the input and name unknown fields."""

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from commitments.models import Case, CaseReply, Playbook, PlaybookStep
from core.api.serializers import StrictInputSerializer

# --- cases ----------------------------------------------------------------------------------------


class CaseSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.code")
    customer_name = serializers.CharField(source="customer.name")
    owner = serializers.CharField(source="owner.username")
    tier = serializers.CharField(
        source="tier.code",
        default=None,
        allow_null=True,
        help_text=gettext_lazy("The customer's tier when the case opened, whose promise set its clock."),
    )
    description = serializers.CharField(allow_blank=True)
    resolution = serializers.CharField(allow_blank=True)
    satisfaction = serializers.ChoiceField(choices=Case.Satisfaction.choices, allow_blank=True)
    first_response_minutes = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "How long the first response took on the case's clock (working minutes on business hours)."
        )
    )
    met_first_response = serializers.BooleanField(
        allow_null=True, help_text=gettext_lazy("Answered by the deadline; null while unanswered.")
    )
    breached = serializers.SerializerMethodField(
        help_text=gettext_lazy("The first-response deadline passed unanswered.")
    )
    activity = serializers.IntegerField(
        source="activity_id", allow_null=True, help_text=gettext_lazy("The complaint activity this case is.")
    )
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "customer",
            "customer_name",
            "kind",
            "severity",
            "channel",
            "subject",
            "description",
            "owner",
            "status",
            "tier",
            "clock",
            "response_minutes",
            "opened_at",
            "first_response_due_at",
            "first_response_at",
            "first_response_minutes",
            "met_first_response",
            "reminded_at",
            "breached",
            "breached_at",
            "resolved_at",
            "closed_at",
            "resolution",
            "satisfaction",
            "activity",
            "created_by",
            "updated_at",
        ]

    def get_first_response_minutes(self, case) -> float | None:
        return None if case.first_response_seconds is None else round(case.first_response_seconds / 60, 1)

    def get_breached(self, case) -> bool:
        return case.breached_at is not None


class CaseReplySerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None, allow_null=True)

    class Meta:
        model = CaseReply
        fields = ["id", "author", "body", "created_at"]


class CaseDetailSerializer(CaseSerializer):
    replies = CaseReplySerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "replies"]


class CaseCreateSerializer(StrictInputSerializer):
    customer = serializers.CharField(max_length=20, help_text=gettext_lazy("Customer code."))
    kind = serializers.ChoiceField(choices=Case.Kind.choices)
    severity = serializers.ChoiceField(choices=Case.Severity.choices, default=Case.Severity.NORMAL)
    channel = serializers.ChoiceField(choices=Case.Channel.choices, default=Case.Channel.API)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    owner = serializers.CharField(
        max_length=150,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=gettext_lazy("Username. Default: the customer's account manager."),
    )
    activity = serializers.IntegerField(
        min_value=1,
        max_value=2**62,
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "A complaint already logged as an activity, opened as this case: it is not recorded a second time."
        ),
    )


class CaseRespondSerializer(StrictInputSerializer):
    body = serializers.CharField(max_length=20000, help_text=gettext_lazy("The reply to the customer."))


class CaseStatusSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(choices=Case.Status.choices)
    resolution = serializers.CharField(
        max_length=20000,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("How the case was resolved: required to resolve or close it."),
    )
    satisfaction = serializers.ChoiceField(
        choices=Case.Satisfaction.choices,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy(
            "At close: A very satisfied ... E very dissatisfied; stored as a survey (A = 5 ... E = 1)."
        ),
    )


# --- playbooks ------------------------------------------------------------------------------------


class PlaybookStepSerializer(serializers.ModelSerializer):
    due_days = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Days to do it; null: within the tier's first-response time.")
    )
    contact_kind = serializers.CharField(allow_blank=True)
    kpi = serializers.CharField(allow_blank=True)

    class Meta:
        model = PlaybookStep
        fields = ["position", "goal", "action", "owner_role", "due_days", "contact_kind", "kpi"]


class PlaybookSerializer(serializers.ModelSerializer):
    tier = serializers.CharField(
        source="tier.code", default=None, allow_null=True, help_text=gettext_lazy("Null: any tier.")
    )
    steps = PlaybookStepSerializer(many=True, read_only=True)

    class Meta:
        model = Playbook
        fields = ["id", "tier", "event", "name", "active", "steps"]


# --- results --------------------------------------------------------------------------------------


class ResultsQuarterSerializer(serializers.Serializer):
    quarter = serializers.CharField(help_text=gettext_lazy("e.g. 2026-Q3"))
    start = serializers.DateField()
    end = serializers.DateField(help_text=gettext_lazy("The quarter's last day."))


class ResultsTierSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=gettext_lazy("Tier code; none: customers without a tier."))
    name = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)


class ResultsValueSerializer(serializers.Serializer):
    quarter = serializers.CharField()
    tier = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text=gettext_lazy("Null where there is nothing to measure."))
    n = serializers.IntegerField(help_text=gettext_lazy("What the figure is over (see n_label)."))
    met = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("For shares: how many met it (met_label)."))
    reference = serializers.FloatField(
        allow_null=True, help_text=gettext_lazy("A comparison value where the figure has one (reference_label).")
    )


class ResultsFigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    definition = serializers.CharField()
    unit = serializers.ChoiceField(choices=["percent", "minutes", "amount", "change"])
    n_label = serializers.CharField()
    met_label = serializers.CharField(allow_blank=True)
    reference_label = serializers.CharField(allow_blank=True)
    values = ResultsValueSerializer(many=True)


class ResultsSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(
        help_text=gettext_lazy("When the figures were computed (kept ten minutes).")
    )
    quarters = ResultsQuarterSerializer(many=True)
    tiers = ResultsTierSerializer(many=True)
    figures = ResultsFigureSerializer(many=True)
