"""Tiers and scoring profiles (everyone reads; staff administrators write), and a customer's live score."""

import datetime

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.permissions import ActionPermissions, ReadOrAdminWrite
from core.clock import local_today
from core.exceptions import DomainError
from crm.api.views.customers import CustomerResourceViewSet
from scoring import backtest_services
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.api.serializers import (
    BacktestAcceptedSerializer,
    BacktestSerializer,
    BacktestStartSerializer,
    LiveScoreSerializer,
    ProfileUpdateSerializer,
    ScoreQuerySerializer,
    ScoringProfileSerializer,
    TierSerializer,
    TierUpdateSerializer,
)
from scoring.models import Backtest, ScoringProfile, Tier
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


@extend_schema_view(
    create=extend_schema(
        summary=_(
            "Start a backtest of the saved rules (with a draft beside them) against what customers did next, "
            "or a weight suggestion for one profile (administrators)"
        ),
        request=BacktestStartSerializer,
        responses={202: BacktestAcceptedSerializer},
    ),
    retrieve=extend_schema(
        summary=_("Status, progress and, once done, the report of a backtest or weight suggestion (administrators)")
    ),
)
class BacktestViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Nothing here writes a tier, a history row, a notice or a webhook: only the Backtest row."""

    queryset = Backtest.objects.select_related("created_by")
    serializer_class = BacktestSerializer
    permission_classes = [ActionPermissions]
    action_perms = {"create": ("scoring.add_backtest",), "retrieve": ("scoring.view_backtest",)}
    admin_actions = {"create", "retrieve"}
    lookup_value_regex = "[0-9]+"
    pagination_class = None
    filter_backends = []

    def create(self, request, *args, **kwargs):
        start = BacktestStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        data = dict(start.validated_data)
        common = {
            "as_of": data.get("as_of"),
            "calibrate": data["calibrate"],
            "retention_days": data["retention_days"],
            "created_by": request.user,
        }
        if data["kind"] == Backtest.Kind.SUGGESTION:
            row = backtest_services.suggestion_create(
                profile=ScoringProfile.objects.filter(pk=data["profile"]).first(),
                objective=data["objective"],
                fit_as_of=data.get("fit_as_of"),
                bounds=data.get("bounds"),
                sample_size=data["sample_size"],
                **common,
            )
        else:
            draft = data.get("draft")
            if draft is not None:
                draft = {**draft, "rules": [_rule_plain(rule) for rule in draft["rules"]]}
            row = backtest_services.backtest_create(draft=draft, thresholds=data.get("thresholds"), **common)
        status_url = request.build_absolute_uri(reverse("api:backtest-detail", kwargs={"pk": row.pk}))
        row.refresh_from_db(fields=["status"])  # eager Celery (no broker) has already run it
        body = BacktestAcceptedSerializer(
            {"id": row.pk, "kind": row.kind, "status": row.status, "status_url": status_url}
        ).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": status_url})
