"""Filters of the workbench endpoints: activities, tasks and the contact due list."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.models import Interaction
from service import selectors
from service.models import ContactStatus, Task

BUCKET_CHOICES = [
    ("overdue", _("Overdue")),
    ("today", _("Due today")),
    ("week", _("Due within the week")),
    ("later", _("Due later")),
]
CONTACT_STATE_CHOICES = [("overdue", _("Overdue")), ("due", _("Due within 7 days, overdue included"))]


class ActivityFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(field_name="customer__code", max_length=20, label=_("customer code"))
    kind = django_filters.ChoiceFilter(choices=Interaction.Kind.choices, label=_("kind"))
    since = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("since"), help_text=_("On or after this date.")
    )
    until = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="lte", label=_("until"), help_text=_("On or before this date.")
    )

    class Meta:
        model = Interaction
        fields = []


class TaskFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(field_name="customer__code", max_length=20, label=_("customer code"))
    status = django_filters.ChoiceFilter(choices=Task.Status.choices, label=_("status"))
    source = django_filters.ChoiceFilter(choices=Task.Source.choices, label=_("source"))
    priority = django_filters.TypedChoiceFilter(choices=Task.Priority.choices, coerce=int, label=_("priority"))
    owner = django_filters.CharFilter(
        method="filter_owner",
        max_length=150,
        label=_("owner"),
        help_text=_("me (the caller), or a username."),
    )
    bucket = django_filters.ChoiceFilter(
        choices=BUCKET_CHOICES,
        method="filter_bucket",
        label=_("due"),
        help_text=_("Open tasks by due time: overdue, today, within the week (after today), later."),
    )

    class Meta:
        model = Task
        fields = []

    def filter_owner(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value == "me":
            return queryset.filter(owner=self.request.user)
        return queryset.filter(owner__username=value)

    def filter_bucket(self, queryset, name, value):
        return queryset.filter(selectors.task_bucket_q(value), status=Task.Status.OPEN)


class ContactDueFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=CONTACT_STATE_CHOICES,
        method="filter_state",
        label=_("state"),
        help_text=_("overdue: due before today; due: due within 7 days, overdue included. Default: every due day."),
    )
    tier = django_filters.CharFilter(
        field_name="tier__code", max_length=20, label=_("tier"), help_text=_("Tier code, e.g. vip.")
    )

    class Meta:
        model = ContactStatus
        fields = []

    def filter_state(self, queryset, name, value):
        return selectors.contact_due_state_filter(queryset, value)
