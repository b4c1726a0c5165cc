"""Customers by code: list, create, read, change.

Other apps add endpoints under /customers/{code}/ (live score, tier history, manual tier) on
`CustomerResourceViewSet`, so every one of them finds the customer the same way: by code,
among the customers the caller may see (404 otherwise)."""

from decimal import Decimal

from django.db.models import DecimalField, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core.api.pagination import StableCursorPagination
from core.api.permissions import ActionPermissions
from core.collation import Pinyin
from crm import services as crm_services
from crm.api.serializers.customers import CustomerDetailSerializer, CustomerSerializer, CustomerWriteSerializer
from crm.filters import CustomerFilter
from crm.models import Customer
from crm.selectors import customers_visible_to, customers_with_tier_run


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
        # By pinyin (core.collation); the cursor's "after this name" compares in the same order.
        "name": ("name_sort", "code"),
        "-name": ("-name_sort", "-code"),
    }
    default_ordering = "code"


class CustomerResourceViewSet(viewsets.GenericViewSet):
    """/customers/{code}/...: the customer by code among those the caller may see, and its record as read back."""

    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9_-]+"
    serializer_class = CustomerDetailSerializer
    permission_classes = [ActionPermissions]

    RELATED = (
        "industry",
        "tier",
        "computed_tier",
        "account_manager",
        "tier_override__tier",
        "tier_override__created_by",
    )

    def get_queryset(self):
        return customers_visible_to(self.request.user, self._customers())

    def _customers(self):
        """One customer's queryset: with its relations and the tier run of its score (customer detail)."""
        return customers_with_tier_run(Customer.objects.select_related(*self.RELATED))

    def customer_response(self, code: str, http_status=status.HTTP_200_OK) -> Response:
        """The record as stored, re-read with its relations; the caller has just written it, so no visibility check."""
        customer = self._customers().get(code=code)
        return Response(
            CustomerDetailSerializer(customer, context=self.get_serializer_context()).data, status=http_status
        )


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("List customers visible to the caller")),
    create=extend_schema(summary=gettext_lazy("Create a customer; answers with its generated code")),
    retrieve=extend_schema(
        summary=gettext_lazy(
            "A customer with tier, score, override, lifecycle, flags and service level, and the dates they are from"
        )
    ),
    partial_update=extend_schema(
        summary=gettext_lazy(
            "Change a customer's editable fields; industry, customer type, cooperation date and account manager "
            "only as a tier administrator (403 naming the field otherwise)"
        )
    ),
)
class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    CustomerResourceViewSet,
):
    filterset_class = CustomerFilter
    pagination_class = CustomerPagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_perms = {
        "create": ("crm.add_customer",),
        "partial_update": ("crm.change_customer",),
    }

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
        return self._annotated(super()._customers())

    @staticmethod
    def _annotated(customers):
        return customers.annotate(
            score_sort=Coalesce("score", Value(Decimal("-1")), output_field=DecimalField()), name_sort=Pinyin("name")
        )

    def get_serializer_class(self):
        if self.action in {"create", "partial_update"}:
            return CustomerWriteSerializer
        if self.action == "list":
            return CustomerSerializer
        return CustomerDetailSerializer

    @extend_schema(request=CustomerWriteSerializer, responses={201: CustomerDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = CustomerWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        reason = fields.pop("reason", "")
        customer = crm_services.customer_create(created_by=request.user, reason=reason, **fields)
        return self.customer_response(customer.code, status.HTTP_201_CREATED)

    @extend_schema(request=CustomerWriteSerializer, responses={200: CustomerDetailSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Who may change which field, and which changes need a reason, is crm.services' rule."""
        customer = self.get_object()
        serializer = CustomerWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        reason = fields.pop("reason", "")
        crm_services.customer_update(customer=customer, changed_by=request.user, reason=reason, **fields)
        return self.customer_response(customer.code)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return self.http_method_not_allowed(request, *args, **kwargs)
        return super().update(request, *args, **kwargs)
