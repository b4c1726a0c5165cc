"""The tier-change feed and tier runs."""

from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from crm import services as crm_services
from crm.api.filters import TierChangeFilter
from crm.api.pagination import StableCursorPagination
from crm.api.permissions import ActionPermissions
from crm.api.serializers.tiering import (
    TierChangeSerializer,
    TierRunAcceptedSerializer,
    TierRunSerializer,
    TierRunStartSerializer,
)
from crm.selectors import customers_visible_to, user_sees_all_customers
from tiering import selectors as tiering_selectors
from tiering import services as tiering_services
from tiering.models import TierRun


class TierChangePagination(StableCursorPagination):
    """Ordered by id, which only grows: a consumer keeps the `next` cursor and never misses or repeats a change."""

    page_size = 100
    max_page_size = 1000
    ordering = ("id",)


@extend_schema_view(
    get=extend_schema(summary=gettext_lazy("Feed of tier changes, oldest first, for downstream systems"))
)
class TierChangeFeedView(generics.ListAPIView):
    serializer_class = TierChangeSerializer
    filterset_class = TierChangeFilter
    pagination_class = TierChangePagination

    def get_queryset(self):
        changes = tiering_selectors.tier_changes_feed()
        user = self.request.user
        if not user_sees_all_customers(user):
            changes = changes.filter(customer__in=customers_visible_to(user).values("id"))
        return changes.select_related("customer", "from_tier", "to_tier")


@extend_schema_view(
    create=extend_schema(
        summary=gettext_lazy("Start a tier run; 409 while one runs or when the period already succeeded"),
        request=TierRunStartSerializer,
        responses={202: TierRunAcceptedSerializer},
    ),
    retrieve=extend_schema(summary=gettext_lazy("Status, progress, counts per tier, upgrades and downgrades of a run")),
)
class TierRunViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = TierRun.objects.all()
    serializer_class = TierRunSerializer
    permission_classes = [ActionPermissions]
    action_perms = {"create": ("tiering.add_tierrun",), "retrieve": ("tiering.view_tierrun",)}
    lookup_value_regex = "[0-9]+"
    pagination_class = None
    filter_backends = []

    def create(self, request, *args, **kwargs):
        start = TierRunStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        data = start.validated_data
        run = tiering_services.tier_run_start(
            as_of=data.get("as_of") or crm_services.local_today(),
            trigger=TierRun.Trigger.API,
            started_by=request.user,
            dry_run=data["dry_run"],
            force=data["force"],
        )
        status_url = request.build_absolute_uri(reverse("api:tier-run-detail", kwargs={"pk": run.pk}))
        body = TierRunAcceptedSerializer({"id": run.pk, "status": run.status, "status_url": status_url}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": status_url})
