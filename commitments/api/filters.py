"""Filters of the cases and playbooks endpoints."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from commitments.models import Case, Playbook
from commitments.selectors import OPEN


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*Case.Status.choices, ("active", _("Open or in progress"))],
        method="filter_status",
        label=_("status"),
        help_text=_("A status, or active: open or in progress."),
    )
    kind = django_filters.ChoiceFilter(choices=Case.Kind.choices, label=_("kind"))
    customer = django_filters.CharFilter(field_name="customer__code", max_length=20, label=_("customer code"))
    tier = django_filters.CharFilter(
        field_name="tier__code", max_length=20, label=_("tier at opening"), help_text=_("Tier code, e.g. vip.")
    )
    breached = django_filters.BooleanFilter(
        field_name="breached_at",
        lookup_expr="isnull",
        exclude=True,
        label=_("breached"),
        help_text=_("true: the first-response deadline passed unanswered; false: it did not (yet)."),
    )
    owner = django_filters.CharFilter(
        method="filter_owner", max_length=150, label=_("owner"), help_text=_("me (the caller), or a username.")
    )

    class Meta:
        model = Case
        fields = []

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=OPEN) if value == "active" else queryset.filter(status=value)

    def filter_owner(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value == "me":
            return queryset.filter(owner=self.request.user)
        return queryset.filter(owner__username=value)


class PlaybookFilter(django_filters.FilterSet):
    event = django_filters.ChoiceFilter(choices=Playbook.Event.choices, label=_("event"))
    tier = django_filters.CharFilter(
        method="filter_tier",
        max_length=20,
        label=_("tier"),
        help_text=_("Tier code: that tier's playbooks and those for any tier."),
    )
    active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = Playbook
        fields = []

    def filter_tier(self, queryset, name, value):
        return queryset.filter(Q(tier__code=value) | Q(tier__isnull=True))
