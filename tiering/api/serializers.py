"""Tier history, tier changes, runs and overrides."""

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from core.api.serializers import StrictInputSerializer, date_in_range
from tiering.models import TierAssignment, TierChange, TierRun


class TierAssignmentSerializer(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id")
    period = serializers.CharField(source="run.period")
    as_of = serializers.DateField(source="run.as_of")
    score = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    tier = serializers.CharField(source="tier.code")
    computed_tier = serializers.CharField(source="computed_tier.code")
    previous_tier = serializers.CharField(source="previous_tier.code", default=None, allow_null=True)
    profile = serializers.CharField(source="profile.name")

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
        ]


class OverrideSetSerializer(StrictInputSerializer):
    tier = serializers.SlugField(max_length=20, help_text=gettext_lazy("Tier code, e.g. vip."))
    reason = serializers.CharField(max_length=2000, help_text=gettext_lazy("Why the customer gets this tier."))
    expires = serializers.DateField(required=False, allow_null=True, validators=[date_in_range])
