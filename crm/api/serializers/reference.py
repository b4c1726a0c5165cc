"""Industries, tiers and scoring profiles: the reference data administrators maintain."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import Industry
from scoring.models import ScoreRule, ScoringProfile, Tier


class IndustrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Industry
        fields = ["code", "name_zh", "name_en", "strategic"]


class IndustryUpdateSerializer(serializers.ModelSerializer):
    """The code identifies the industry and is part of customer codes, so it never changes."""

    class Meta:
        model = Industry
        fields = ["code", "name_zh", "name_en", "strategic"]
        read_only_fields = ["code"]


class TierServiceLevelSerializer(serializers.Serializer):
    dedicated_manager = serializers.BooleanField()
    first_response_minutes = serializers.IntegerField()
    visit_frequency_zh = serializers.CharField()
    visit_frequency_en = serializers.CharField()
    service_zh = serializers.CharField()
    service_en = serializers.CharField()


class TierSerializer(serializers.ModelSerializer):
    min_score = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    target_share = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    service_level = serializers.SerializerMethodField()

    class Meta:
        model = Tier
        fields = ["code", "rank", "name_zh", "name_en", "min_score", "target_share", "colour", "service_level"]

    @extend_schema_field(TierServiceLevelSerializer)
    def get_service_level(self, tier):
        return TierServiceLevelSerializer(tier).data


class ScoreRuleSerializer(serializers.ModelSerializer):
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    floor = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True, coerce_to_string=False)
    cap = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True, coerce_to_string=False)
    missing_value = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True, coerce_to_string=False)
    bands = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text=_("Ascending [threshold, share of the weight] pairs."),
    )

    class Meta:
        model = ScoreRule
        fields = [
            "id",
            "metric",
            "category",
            "weight",
            "normalisation",
            "floor",
            "cap",
            "bands",
            "direction",
            "missing_value",
            "position",
        ]


class ScoringProfileSerializer(serializers.ModelSerializer):
    industries = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    rules = ScoreRuleSerializer(many=True, read_only=True)

    class Meta:
        model = ScoringProfile
        fields = [
            "id",
            "name",
            "description",
            "is_default",
            "is_active",
            "customer_type",
            "industries",
            "version",
            "updated_at",
            "rules",
        ]
