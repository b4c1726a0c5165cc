"""The tier-change feed, tier runs, and a customer's tier history and manual tier."""

from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.access import rows_visible_to
from core.api.pagination import StableCursorPagination
from core.api.permissions import ActionPermissions
from core.clock import local_today
from core.exceptions import DomainError
from crm.api.serializers.customers import CustomerSerializer
from crm.api.views.customers import CustomerResourceViewSet
from tiering import selectors as tiering_selectors
from tiering import services as tiering_services
from tiering.api.filters import TierChangeFilter
from tiering.api.serializers import (
    OverrideRemoveSerializer,
    OverrideSetSerializer,
    TierAssignmentSerializer,
    TierChangeSerializer,
    TierRunAcceptedSerializer,
    TierRunSerializer,
    TierRunStartSerializer,
)
from tiering.explanations import explanations_for
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
        changes = rows_visible_to(self.request.user, tiering_selectors.tier_changes_feed())
        return changes.select_related("customer", "from_tier", "to_tier")


@extend_schema_view(
    create=extend_schema(
        summary=gettext_lazy("Start a tier run; 409 while one runs or when the period already succeeded"),
        request=TierRunStartSerializer,
        responses={202: TierRunAcceptedSerializer},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("Status, progress, counts per tier, upgrades and downgrades of a run, and its rule book")
    ),
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
            as_of=data.get("as_of") or local_today(),
            trigger=TierRun.Trigger.API,
            started_by=request.user,
            dry_run=data["dry_run"],
            force=data["force"],
        )
        status_url = request.build_absolute_uri(reverse("api:tier-run-detail", kwargs={"pk": run.pk}))
        body = TierRunAcceptedSerializer({"id": run.pk, "status": run.status, "status_url": status_url}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": status_url})


class HistoryPagination(StableCursorPagination):
    """Newest first by the run's as-of date (annotated by tiering.selectors.assignments_for)."""

    ordering = ("-run_as_of", "-id")


class CustomerTierViewSet(CustomerResourceViewSet):
    """/customers/{code}/history/ and /customers/{code}/override/."""

    action_perms = {
        "override": ("tiering.add_tieroverride", "tiering.change_tieroverride"),
        "override_remove": ("tiering.delete_tieroverride",),
    }
    admin_actions = {"override", "override_remove"}
    http_method_names = ["get", "post", "delete", "head", "options"]

    @extend_schema(
        summary=gettext_lazy(
            "Tier assignments of the customer, newest first by as-of date, each explained by its run's rule book"
        ),
        responses=TierAssignmentSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=HistoryPagination, filter_backends=[])
    def history(self, request, code=None):
        customer = self.get_object()
        page = self.paginate_queryset(tiering_selectors.assignments_for(customer))
        context = {"explanations": explanations_for(page)}
        return self.get_paginated_response(TierAssignmentSerializer(page, many=True, context=context).data)

    @extend_schema(
        summary=gettext_lazy("Set a manual tier override (reason required)"),
        request=OverrideSetSerializer,
        responses={200: CustomerSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="override", pagination_class=None, filter_backends=[])
    def override(self, request, code=None):
        customer = self.get_object()
        serializer = OverrideSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            tiering_services.override_set(
                customer=customer,
                tier=data["tier"],
                reason=data["reason"],
                expires_on=data.get("expires"),
                set_by=request.user,
            )
        except DomainError as exc:
            if "expires_on" in exc.fields:  # the API calls it `expires`, as in the customer detail
                exc.fields["expires"] = exc.fields.pop("expires_on")
            raise
        return self.customer_response(customer.code)

    @extend_schema(
        summary=gettext_lazy("Remove the manual tier override"),
        parameters=[
            OpenApiParameter(
                "reason",
                str,
                required=False,
                description=gettext_lazy("Why the manual tier goes; kept in its history."),
            )
        ],
        responses={204: OpenApiResponse()},
        filters=False,
    )
    @override.mapping.delete
    def override_remove(self, request, code=None):
        customer = self.get_object()
        given = {"reason": request.query_params["reason"]} if "reason" in request.query_params else {}
        serializer = OverrideRemoveSerializer(data=given)
        serializer.is_valid(raise_exception=True)
        tiering_services.override_remove(
            customer=customer, removed_by=request.user, reason=serializer.validated_data.get("reason", "")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
