"""Tiers and scoring profiles (everyone reads; staff administrators write), and a customer's live score."""

import datetime

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.permissions import ReadOrAdminWrite
from core.clock import local_today
from core.exceptions import DomainError
from crm.api.views.customers import CustomerResourceViewSet
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.api.serializers import (
    LiveScoreSerializer,
    ProfileUpdateSerializer,
    ScoreQuerySerializer,
    ScoringProfileSerializer,
    TierSerializer,
    TierUpdateSerializer,
)
from scoring.models import ScoringProfile, Tier
from scoring.validation import SPLIT_FIELDS


@extend_schema_view(
    list=extend_schema(summary=_("Tiers with thresholds, names, target shares and service levels")),
    retrieve=extend_schema(summary=_("One tier")),
    partial_update=extend_schema(
        summary=_("Change a tier's threshold, target share, names or service level, with a reason (administrators)"),
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
        update = TierUpdateSerializer(data=request.data)  # every field optional but the reason
        update.is_valid(raise_exception=True)
        changes = dict(update.validated_data)
        reason = changes.pop("reason")
        scoring_services.tiers_update(changes=[{"code": tier.code, **changes}], changed_by=request.user, reason=reason)
        return Response(TierSerializer(Tier.objects.get(pk=tier.pk)).data)


@extend_schema_view(
    list=extend_schema(summary=_("Scoring profiles with their rules")),
    retrieve=extend_schema(summary=_("One scoring profile with its rules")),
    partial_update=extend_schema(
        summary=_("Replace a profile's rules (and optionally its category split), with a reason (administrators)"),
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
        data = update.validated_data
        scoring_services.profile_rules_update(
            profile=profile,
            rules=[_rule_plain(rule) for rule in data["rules"]],
            split={category: data[field] for category, field in SPLIT_FIELDS.items() if field in data},
            changed_by=request.user,
            reason=data["reason"],
        )
        return Response(ScoringProfileSerializer(self.get_queryset().get(pk=profile.pk)).data)


def _rule_plain(rule: dict) -> dict:
    return {key: value for key, value in rule.items() if not (key == "id" and value is None)}


class CustomerScoreViewSet(CustomerResourceViewSet):
    """GET /customers/{code}/score/."""

    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary=_("Live score, computed now; stores nothing"),
        parameters=[
            OpenApiParameter("as_of", datetime.date, description=_("Score at this date; default today."))
        ],
        responses={200: LiveScoreSerializer},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def score(self, request, code=None):
        customer = self.get_object()
        query = ScoreQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or local_today()
        try:
            scored = scoring_selectors.customer_score(customer, as_of)
        except LookupError as exc:
            raise DomainError(
                gettext("This customer cannot be scored: %(reason)s.") % {"reason": exc}, code="scoring_unavailable"
            ) from None
        return Response(
            LiveScoreSerializer(
                {
                    "customer": customer.code,
                    "as_of": scored.as_of,
                    "score": scored.result.total,
                    "tier": scored.tier.code,
                    "tier_name": scored.tier.name,
                    "profile": {"name": scored.profile.name, "version": scored.profile.version},
                    "rules": scored.result.rules,
                }
            ).data
        )
