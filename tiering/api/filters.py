"""Filters of the tier-change feed."""

import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import BoundedIsoDateTimeFilter
from tiering.models import TierChange


class TierChangeFilter(django_filters.FilterSet):
    since = BoundedIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        label=_("since"),
        help_text=_("Changes recorded at or after this ISO 8601 timestamp."),
    )
    after_id = django_filters.NumberFilter(
        field_name="id",
        lookup_expr="gt",
        min_value=0,
        max_value=2**62,
        label=_("after id"),
        help_text=_("Only changes after this id: poll with the last id you stored to get exactly the new ones."),
    )
    direction = django_filters.ChoiceFilter(choices=TierChange.Direction.choices, label=_("direction"))
    run = django_filters.NumberFilter(field_name="run_id", min_value=1, max_value=2**62, label=_("tier run id"))
    customer = django_filters.CharFilter(field_name="customer__code", max_length=20, label=_("customer code"))

    class Meta:
        model = TierChange
        fields = []
