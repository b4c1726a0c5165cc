"""The customer filters, shared by the /customers/ page and GET /api/v1/customers/.

One definition so a link from the UI and an API query with the same parameters list the same
customers. Visibility (whose customers) is applied before filtering, by crm.selectors (rule in core.access).
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import BoundedIsoDateTimeFilter
from crm.models import Customer, Industry


class CustomerFilter(django_filters.FilterSet):
    tier = django_filters.ModelChoiceFilter(
        # The tiers, reached through the customer's own key: they belong to a higher app.
        queryset=Customer.tier.field.related_model.objects.all(),
        to_field_name="code",
        label=_("tier"),
        help_text=_("Tier code, e.g. vip."),
    )
    industry = django_filters.ModelChoiceFilter(
        queryset=Industry.objects.all(), to_field_name="code", label=_("industry"), help_text=_("Industry code.")
    )
    customer_type = django_filters.ChoiceFilter(choices=Customer.CustomerType.choices, label=_("customer type"))
    region = django_filters.CharFilter(field_name="region", lookup_expr="iexact", label=_("region"))
    account_manager = django_filters.CharFilter(
        field_name="account_manager__username", label=_("account manager"), help_text=_("Username.")
    )
    lifecycle = django_filters.ChoiceFilter(choices=Customer.Lifecycle.choices, label=_("lifecycle stage"))
    flagged = django_filters.BooleanFilter(
        method="filter_flagged",
        label=_("flagged"),
        help_text=_("Only customers with (true) or without (false) early-warning flags."),
    )
    score_min = django_filters.NumberFilter(
        field_name="score", lookup_expr="gte", min_value=0, max_value=100, label=_("minimum score")
    )
    score_max = django_filters.NumberFilter(
        field_name="score", lookup_expr="lte", min_value=0, max_value=100, label=_("maximum score")
    )
    updated_since = BoundedIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("updated since"), help_text=_("ISO 8601 timestamp.")
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=100, label=_("search"), help_text=_("Part of the code or the name.")
    )

    class Meta:
        model = Customer
        fields = []

    def filter_flagged(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(flags=[]) if value else queryset.filter(flags=[])

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
