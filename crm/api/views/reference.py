"""Industries, tiers and scoring profiles. Everyone reads; staff administrators write."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from crm.api.permissions import ReadOrAdminWrite
from crm.api.serializers.base import StrictInputSerializer
from crm.api.serializers.reference import (
    IndustrySerializer,
    IndustryUpdateSerializer,
    ScoreRuleSerializer,
    ScoringProfileSerializer,
    TierSerializer,
)
from crm.models import Industry
from scoring import services as scoring_services
from scoring.models import ScoreRule, ScoringProfile, Tier


@extend_schema_view(
    list=extend_schema(summary=_("Industries with code, names and strategic flag")),
    create=extend_schema(summary=_("Add an industry (administrators)")),
    retrieve=extend_schema(summary=_("One industry")),
    partial_update=extend_schema(summary=_("Rename an industry or change its strategic flag (administrators)")),
)
class IndustryViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Industry.objects.order_by("code")
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z]+"
    permission_classes = [ReadOrAdminWrite]
    admin_write_perms = ("crm.add_industry", "crm.change_industry")
    pagination_class = None
    filter_backends = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        return IndustryUpdateSerializer if self.action == "partial_update" else IndustrySerializer

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if self.action in {"create", "partial_update"}:
            _reject_unknown(serializer)
        return serializer


def _reject_unknown(serializer):
    """ModelSerializer drops unknown keys silently; the API names them instead."""
    data = getattr(serializer, "initial_data", None)
    if isinstance(data, dict):
        writable = {name for name, field in serializer.fields.items() if not field.read_only}
        unknown = sorted(set(data) - writable)
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown or read-only field.")] for name in unknown})


class TierUpdateSerializer(StrictInputSerializer):
    """Any subset of the editable tier fields; thresholds are re-checked against the other tiers."""

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


@extend_schema_view(
    list=extend_schema(summary=_("Tiers with thresholds, names, target shares and service levels")),
    retrieve=extend_schema(summary=_("One tier")),
    partial_update=extend_schema(
        summary=_("Change a tier's threshold, target share, names or service level (administrators)"),
        request=TierUpdateSerializer,
        responses={200: TierSerializer},
    ),
)
class TierViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    queryset = Tier.objects.order_by("rank")
    serializer_class = TierSerializer
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    permission_classes = [ReadOrAdminWrite]
    admin_write_perms = ("scoring.change_tier",)
    pagination_class = None
    filter_backends = []
    http_method_names = ["get", "patch", "head", "options"]

    def partial_update(self, request, *args, **kwargs):
        tier = self.get_object()
        changes = TierUpdateSerializer(data=request.data, partial=True)
        changes.is_valid(raise_exception=True)
        scoring_services.tiers_update(changes=[{"code": tier.code, **changes.validated_data}], changed_by=request.user)
        return Response(TierSerializer(Tier.objects.get(pk=tier.pk)).data)


class RuleInSerializer(StrictInputSerializer):
    id = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("Keep an existing rule; omit for a new one.")
    )
    metric = serializers.CharField(max_length=40)
    category = serializers.ChoiceField(choices=ScoreRule.Category.choices)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=0)
    normalisation = serializers.ChoiceField(choices=ScoreRule.Normalisation.choices, default="linear")
    floor = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True, default=None)
    cap = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True, default=None)
    bands = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        default=list,
        max_length=50,
    )
    direction = serializers.ChoiceField(choices=ScoreRule.Direction.choices, default="higher")
    missing_value = serializers.DecimalField(
        max_digits=18, decimal_places=4, required=False, allow_null=True, default=None
    )


class ProfileUpdateSerializer(StrictInputSerializer):
    rules = RuleInSerializer(many=True, max_length=50, help_text=_("The whole new rule set, in order."))


@extend_schema_view(
    list=extend_schema(summary=_("Scoring profiles with their rules")),
    retrieve=extend_schema(summary=_("One scoring profile with its rules")),
    partial_update=extend_schema(
        summary=_("Replace a profile's rules: weights, thresholds, bands (administrators)"),
        request=ProfileUpdateSerializer,
        responses={200: ScoringProfileSerializer},
    ),
)
class ScoringProfileViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ScoringProfileSerializer
    permission_classes = [ReadOrAdminWrite]
    admin_write_perms = ("scoring.change_scoringprofile", "scoring.change_scorerule")
    pagination_class = None
    filter_backends = []
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return ScoringProfile.objects.prefetch_related("industries", "rules").order_by("-is_default", "name")

    def partial_update(self, request, *args, **kwargs):
        profile = self.get_object()
        update = ProfileUpdateSerializer(data=request.data)
        update.is_valid(raise_exception=True)
        rules = [_rule_plain(rule) for rule in update.validated_data["rules"]]
        scoring_services.profile_rules_update(profile=profile, rules=rules, changed_by=request.user)
        return Response(ScoringProfileSerializer(self.get_queryset().get(pk=profile.pk)).data)


def _rule_plain(rule: dict) -> dict:
    return {key: value for key, value in rule.items() if not (key == "id" and value is None)}


__all__ = ["IndustryViewSet", "TierViewSet", "ScoringProfileViewSet", "ScoreRuleSerializer"]
