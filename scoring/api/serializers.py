"""Tiers, scoring profiles and live scores."""

from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictInputSerializer, date_in_range
from scoring.models import Backtest, ScoreRule, ScoringProfile, Tier
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


# --- backtests and weight suggestions ------------------------------------------------------------


class BacktestDraftSerializer(StrictInputSerializer):
    """A draft rule set for one profile: the whole rule set, and optionally a new category split."""

    profile = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("The profile the draft replaces; omit for a new profile.")
    )
    rules = RuleInSerializer(many=True, max_length=50, help_text=_("The whole draft rule set, in order."))
    quantitative_points = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    qualitative_points = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)


class BacktestStartSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(
        choices=["backtest", "suggestion"],
        default="backtest",
        help_text=_("backtest: the saved rules (and a draft beside them); suggestion: weights fitted for one profile."),
    )
    as_of = serializers.DateField(
        required=False,
        validators=[date_in_range],
        help_text=_(
            "T: customers are scored with data up to this day and judged by the 12 months after it. "
            "Default: one year before the end of the latest complete month."
        ),
    )
    calibrate = serializers.BooleanField(
        default=False, help_text=_("Set each rule set's thresholds by the calibration to the tiers' target shares.")
    )
    retention_days = serializers.IntegerField(
        default=90, help_text=_("'Still ordering' means an order in the last this many days of the 12 months.")
    )
    draft = BacktestDraftSerializer(
        required=False, help_text=_("Backtest only: a draft profile beside the saved rules.")
    )
    thresholds = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=2),
        required=False,
        help_text=_('Backtest only: draft minimum scores by tier code, e.g. {"vip": 92}.'),
    )
    profile = serializers.IntegerField(
        required=False, help_text=_("Suggestion only: the profile whose weights are fitted.")
    )
    objective = serializers.ChoiceField(
        choices=["rank_correlation", "top_share"],
        default="rank_correlation",
        help_text=_(
            "Suggestion only: rank correlation of score and next-period spend, or the top tiers' share of "
            "next-period spend."
        ),
    )
    fit_as_of = serializers.DateField(
        required=False,
        validators=[date_in_range],
        help_text=_(
            "Suggestion only: the earlier window's date, where weights are fitted. Default: a year before as_of."
        ),
    )
    bounds = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        help_text=_("Suggestion only: [low, high] points per metric; default 0 to twice the current weight."),
    )
    sample_size = serializers.IntegerField(
        default=20000, help_text=_("Suggestion only: customers sampled from the fit window at most.")
    )

    SUGGESTION_ONLY = ("profile", "objective", "fit_as_of", "bounds", "sample_size")
    BACKTEST_ONLY = ("draft", "thresholds")

    def validate(self, attrs):
        kind = attrs.get("kind", "backtest")
        other = self.SUGGESTION_ONLY if kind == "backtest" else self.BACKTEST_ONLY
        given = set(self.initial_data) if isinstance(self.initial_data, dict) else set()
        wrong = {name: [gettext_lazy("Not used by a %(kind)s.") % {"kind": kind}] for name in other if name in given}
        if kind == "suggestion" and "profile" not in given:
            wrong["profile"] = [gettext_lazy("A suggestion fits the weights of one profile: give its id.")]
        if wrong:
            raise serializers.ValidationError(wrong)
        return attrs


class BacktestAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    status_url = serializers.URLField()


class BacktestSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    profile = serializers.PrimaryKeyRelatedField(read_only=True)
    parameters = serializers.JSONField(help_text=_("What was asked: draft rules or thresholds, bounds, options."))
    result = serializers.JSONField(
        help_text=_(
            "The report once succeeded: data (how much data stood behind it), sides (current and draft: per-tier "
            "figures, inversions, rank correlation, top 20% share, gains, contributions per rule, misplaced "
            "customers) and, for a suggestion, the weights with the fit and out-of-sample figures. "
            "docs/backtest.md describes every figure."
        )
    )

    class Meta:
        model = Backtest
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "stage",
            "as_of",
            "fit_as_of",
            "profile",
            "parameters",
            "result",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
