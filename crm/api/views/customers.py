"""Customers by code: list, create, read, change, live score, tier history and manual overrides."""

import datetime
from decimal import Decimal

from django.db.models import DecimalField, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm import services as crm_services
from crm.api.pagination import StableCursorPagination
from crm.api.permissions import ActionPermissions
from crm.api.serializers.customers import CustomerSerializer, CustomerWriteSerializer
from crm.api.serializers.tiering import (
    LiveScoreSerializer,
    OverrideSetSerializer,
    ScoreQuerySerializer,
    TierAssignmentSerializer,
)
from crm.exceptions import DomainError
from crm.filters import CustomerFilter
from crm.models import Customer
from crm.selectors import customers_visible_to, user_sees_all_customers
from scoring import services as scoring_services
from tiering import selectors as tiering_selectors
from tiering import services as tiering_services


class CustomerPagination(StableCursorPagination):
    page_size = 50
    # Public ordering names -> ORDER BY ending in a unique key, as cursor pagination needs.
    # Unscored customers sort below every scored one (score_sort is -1 for them).
    ordering_choices = {
        "code": ("code",),
        "-code": ("-code",),
        "score": ("score_sort", "code"),
        "-score": ("-score_sort", "code"),
        "spend": ("spend_12m", "code"),
        "-spend": ("-spend_12m", "code"),
    }
    default_ordering = "code"


class HistoryPagination(StableCursorPagination):
    ordering = ("-id",)


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("List customers visible to the caller")),
    create=extend_schema(summary=gettext_lazy("Create a customer; answers with its generated code")),
    retrieve=extend_schema(
        summary=gettext_lazy("A customer with tier, score, override, lifecycle, flags and service level")
    ),
    partial_update=extend_schema(summary=gettext_lazy("Change a customer's editable fields")),
)
class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9_-]+"
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    pagination_class = CustomerPagination
    permission_classes = [ActionPermissions]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_perms = {
        "create": ("crm.add_customer",),
        "partial_update": ("crm.change_customer",),
        "override": ("tiering.add_tieroverride", "tiering.change_tieroverride"),
        "override_remove": ("tiering.delete_tieroverride",),
    }
    admin_actions = {"override", "override_remove"}

    RELATED = (
        "industry",
        "tier",
        "computed_tier",
        "account_manager",
        "tier_override__tier",
        "tier_override__created_by",
    )

    def get_queryset(self):
        if self.action == "list":
            # No index holds the score (tier runs rewrite customer rows in place), so a page sorts
            # the tier's rows: with the related rows fetched afterwards (one query each) the sort
            # sits right under LIMIT and keeps only a page's worth (top-N), instead of sorting
            # every joined row of the tier (docs/performance.md).
            return customers_visible_to(
                self.request.user, self._annotated(Customer.objects.prefetch_related(*self.RELATED))
            )
        return customers_visible_to(self.request.user, self._customers())

    def _customers(self):
        return self._annotated(Customer.objects.select_related(*self.RELATED))

    @staticmethod
    def _annotated(customers):
        return customers.annotate(score_sort=Coalesce("score", Value(Decimal("-1")), output_field=DecimalField()))

    def get_serializer_class(self):
        if self.action in {"create", "partial_update"}:
            return CustomerWriteSerializer
        return CustomerSerializer

    def _detail(self, code: str, http_status=status.HTTP_200_OK) -> Response:
        """The record as stored, re-read with its relations; the caller has just written it, so no visibility check."""
        customer = self._customers().get(code=code)
        return Response(CustomerSerializer(customer, context=self.get_serializer_context()).data, status=http_status)

    @extend_schema(request=CustomerWriteSerializer, responses={201: CustomerSerializer})
    def create(self, request, *args, **kwargs):
        serializer = CustomerWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = crm_services.customer_create(created_by=request.user, **serializer.validated_data)
        return self._detail(customer.code, status.HTTP_201_CREATED)

    @extend_schema(request=CustomerWriteSerializer, responses={200: CustomerSerializer})
    def partial_update(self, request, *args, **kwargs):
        customer = self.get_object()
        serializer = CustomerWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        if "account_manager" in fields and not user_sees_all_customers(request.user):
            raise ValidationError({"account_manager": [_("Only users who see all customers may reassign them.")]})
        crm_services.customer_update(customer=customer, **fields)
        return self._detail(customer.code)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return self.http_method_not_allowed(request, *args, **kwargs)
        return super().update(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Live score, computed now; stores nothing"),
        parameters=[
            OpenApiParameter("as_of", datetime.date, description=gettext_lazy("Score at this date; default today."))
        ],
        responses={200: LiveScoreSerializer},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def score(self, request, code=None):
        customer = self.get_object()
        query = ScoreQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or crm_services.local_today()
        try:
            scored = scoring_services.customer_score(customer, as_of)
        except LookupError as exc:
            raise DomainError(
                _("This customer cannot be scored: %(reason)s.") % {"reason": exc}, code="scoring_unavailable"
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

    @extend_schema(
        summary=gettext_lazy("Tier assignments of the customer, newest first"),
        responses=TierAssignmentSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=HistoryPagination, filter_backends=[])
    def history(self, request, code=None):
        customer = self.get_object()
        assignments = tiering_selectors.assignments_for(customer)
        page = self.paginate_queryset(assignments)
        return self.get_paginated_response(TierAssignmentSerializer(page, many=True).data)

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
        return self._detail(customer.code)

    @extend_schema(
        summary=gettext_lazy("Remove the manual tier override"), responses={204: OpenApiResponse()}, filters=False
    )
    @override.mapping.delete
    def override_remove(self, request, code=None):
        customer = self.get_object()
        tiering_services.override_remove(customer=customer, removed_by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
