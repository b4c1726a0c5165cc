"""Tiers, scoring profiles and live scores."""

from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictInputSerializer, date_in_range
from scoring.models import ScoreRule, ScoringProfile, Tier
from scoring.validation import REASON_MAX_LENGTH, REASON_REQUIRED, RULE_FIELDS


def reason_field() -> serializers.CharField:
    """Why the change is made: required, kept as the change reason of the history rows."""
    return serializers.CharField(
        max_length=REASON_MAX_LENGTH,
        error_messages={"required": REASON_REQUIRED, "blank": REASON_REQUIRED, "null": REASON_REQUIRED},
        help_text=_("Why the change is made; kept in the history with who made it and when."),
    )


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
        fields = ["id", *RULE_FIELDS, "position"]


class ScoringProfileSerializer(serializers.ModelSerializer):
    industries = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    quantitative_points = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    qualitative_points = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
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
            "quantitative_points",
            "qualitative_points",
            "version",
            "updated_at",
            "rules",
        ]


class ProfileRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()


class RulePointsSerializer(serializers.Serializer):
    metric = serializers.CharField()
    category = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text=gettext_lazy("The metric's value; null when missing."))
    points = serializers.FloatField()
    max_points = serializers.FloatField()


class LiveScoreSerializer(serializers.Serializer):
    customer = serializers.CharField()
    as_of = serializers.DateField()
    score = serializers.FloatField()
    tier = serializers.CharField()
    tier_name = serializers.CharField()
    profile = ProfileRefSerializer()
    rules = RulePointsSerializer(many=True)


class ScoreQuerySerializer(StrictInputSerializer):
    allow_unknown_fields = True  # other query parameters (lang) are allowed
    as_of = serializers.DateField(required=False, validators=[date_in_range])


class TierUpdateSerializer(StrictInputSerializer):
    """Any subset of the editable tier fields, and the reason; thresholds are re-checked against the other tiers."""

    reason = reason_field()

    min_score = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False)
    target_share = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False)
    name_zh = serializers.CharField(max_length=32, required=False)
    name_en = serializers.CharField(max_length=32, required=False)
    colour = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", max_length=7, required=False)
    dedicated_manager = serializers.BooleanField(required=False)
    visit_frequency_zh = serializers.CharField(max_length=64, required=False, allow_blank=True)
    visit_frequency_en = serializers.CharField(max_length=64, required=False, allow_blank=True)
    first_response_minutes = serializers.IntegerField(min_value=0, max_value=525600, required=False)
    service_zh = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    service_en = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class RuleInSerializer(StrictInputSerializer):
    id = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("Keep an existing rule; omit for a new one.")
    )
    metric = serializers.CharField(max_length=40)
    category = serializers.ChoiceField(choices=ScoreRule.Category.choices)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=0)
    normalisation = serializers.ChoiceField(
        choices=ScoreRule.Normalisation.choices, default=ScoreRule.Normalisation.LINEAR.value
    )
    floor = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True, default=None)
    cap = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True, default=None)
    bands = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        default=list,
        max_length=50,
    )
    direction = serializers.ChoiceField(choices=ScoreRule.Direction.choices, default=ScoreRule.Direction.HIGHER.value)
    missing_value = serializers.DecimalField(
        max_digits=18, decimal_places=4, required=False, allow_null=True, default=None
    )


class ProfileUpdateSerializer(StrictInputSerializer):
    rules = RuleInSerializer(many=True, max_length=50, help_text=_("The whole new rule set, in order."))
    quantitative_points = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text=_("A new category split: what the quantitative rules add up to (with the qualitative points, 100)."),
    )
    qualitative_points = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text=_("A new category split: what the qualitative rules add up to."),
    )
    reason = reason_field()
