"""Tier history, tier changes, runs and overrides."""

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictInputSerializer, date_in_range
from tiering.models import TierAssignment, TierChange, TierRun


class AssignmentRulePointsSerializer(serializers.Serializer):
    metric = serializers.CharField()
    points = serializers.FloatField(allow_null=True)
    max_points = serializers.FloatField()


class AssignmentExplanationSerializer(serializers.Serializer):
    """The assignment read with the rule book of its own run: each rule's points against its
    maximum, the tier's threshold, and after a downgrade the points back to the former tier."""

    rules = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "run: the figures are those of the run's own rule book; today: the run is from before rule books "
            "were kept, and today's rules stand in."
        )
    )
    threshold = serializers.DecimalField(
        source="tier.min_score", max_digits=5, decimal_places=2, coerce_to_string=False
    )
    rule_points = AssignmentRulePointsSerializer(many=True)
    points_to_return = serializers.FloatField(
        allow_null=True, help_text=gettext_lazy("After a downgrade: points still needed for the former tier.")
    )

    def get_rules(self, explanation) -> str:
        return "run" if explanation.rules_frozen else "today"


class TierAssignmentSerializer(serializers.ModelSerializer):
    """Needs `explanations` ({assignment id: AssignmentExplanation}) in its context."""

    run = serializers.IntegerField(source="run_id")
    period = serializers.CharField(source="run.period")
    as_of = serializers.DateField(source="run.as_of")
    score = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    tier = serializers.CharField(source="tier.code")
    computed_tier = serializers.CharField(source="computed_tier.code")
    previous_tier = serializers.CharField(source="previous_tier.code", default=None, allow_null=True)
    profile = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()

    def get_profile(self, assignment) -> str:
        return self.context["explanations"][assignment.pk].profile_name

    @extend_schema_field(AssignmentExplanationSerializer)
    def get_explanation(self, assignment) -> dict:
        return AssignmentExplanationSerializer(self.context["explanations"][assignment.pk]).data

    class Meta:
        model = TierAssignment
        fields = [
            "run",
            "period",
            "as_of",
            "score",
            "tier",
            "computed_tier",
            "previous_tier",
            "overridden",
            "profile",
            "profile_version",
            "lifecycle",
            "created_at",
            "explanation",
        ]


class TierChangeSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.code")
    from_tier = serializers.CharField(source="from_tier.code", default=None, allow_null=True)
    to_tier = serializers.CharField(source="to_tier.code")
    score = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    score_before = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False)
    run = serializers.IntegerField(source="run_id", allow_null=True)

    class Meta:
        model = TierChange
        fields = ["id", "customer", "from_tier", "to_tier", "direction", "score_before", "score", "run", "created_at"]


class TierRunStartSerializer(StrictInputSerializer):
    as_of = serializers.DateField(required=False, validators=[date_in_range], help_text=gettext_lazy("Default: today."))
    dry_run = serializers.BooleanField(default=False)
    force = serializers.BooleanField(default=False, help_text=gettext_lazy("Re-run a period that already succeeded."))


class TierRunAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_url = serializers.CharField()


class TierRunProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    percent = serializers.IntegerField(source="progress_percent")


class TierRunSerializer(serializers.ModelSerializer):
    progress = TierRunProgressSerializer(source="*")
    tier_counts = serializers.DictField(child=serializers.IntegerField())
    rulebook = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "What the run scores with, frozen at its start: profiles and rules, tiers, settings. "
            "Null for runs from before rule books were kept."
        )
    )

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_rulebook(self, run) -> dict | None:
        return run.rulebook or None

    class Meta:
        model = TierRun
        fields = [
            "id",
            "period",
            "as_of",
            "scope",
            "trigger",
            "status",
            "dry_run",
            "forced",
            "progress",
            "tier_counts",
            "upgrades",
            "downgrades",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "metric_keys",
            "rulebook",
        ]


class OverrideSetSerializer(StrictInputSerializer):
    tier = serializers.SlugField(max_length=20, help_text=gettext_lazy("Tier code, e.g. vip."))
    reason = serializers.CharField(max_length=2000, help_text=gettext_lazy("Why the customer gets this tier."))
    expires = serializers.DateField(required=False, allow_null=True, validators=[date_in_range])


class OverrideRemoveSerializer(StrictInputSerializer):
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("Why the manual tier goes; kept in its history. Default: “Manual tier removed”."),
    )
