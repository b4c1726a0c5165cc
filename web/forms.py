"""Forms of the web pages: the customer list's filters and sort, the customer page's edit form,
notice acknowledgement, starting a run."""

import datetime

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from core.clock import local_today
from core.exceptions import DomainError
from crm.columns import customer_column
from crm.filters import CustomerFilter
from crm.models import Customer, Industry
from crm.selectors import CUSTOMER_DEFAULT_SORT, account_managers_with_customers
from crm.services import CUSTOMER_GOVERNED_FIELDS, REASON_MAX_LENGTH
from scoring.models import Tier
from service.selectors import DUE_SOON_DAYS

SORT_CHOICES = [
    ("-score", _("Score, highest first")),
    ("score", _("Score, lowest first")),
    ("-spend_12m", _("12-month spend, highest first")),
    ("spend_12m", _("12-month spend, lowest first")),
    ("name", _("Name, A to Z")),
    ("-name", _("Name, Z to A")),
    ("-last_order_at", _("Last order, newest first")),
    ("last_order_at", _("Last order, oldest first")),
]


class CustomerListFilter(CustomerFilter):
    """The API's filters with select boxes for people; every value lives in the URL so a list can be shared."""

    account_manager = django_filters.ModelChoiceFilter(
        queryset=account_managers_with_customers(),
        to_field_name="username",
        label=_("Account manager"),
        empty_label=_("All managers"),
    )

    customer_type = django_filters.ChoiceFilter(
        choices=Customer.CustomerType.choices, label=_("Customer type"), empty_label=_("All types")
    )
    lifecycle = django_filters.ChoiceFilter(
        choices=Customer.Lifecycle.choices, label=_("Lifecycle stage"), empty_label=_("All stages")
    )
    # The contact plan (service.ContactStatus), joined only when this filter is used.
    contact = django_filters.ChoiceFilter(
        choices=[("overdue", _("Contact overdue")), ("due", _("Contact due within 7 days"))],
        method="filter_contact",
        label=_("Contact plan"),
        empty_label=_("Any"),
    )

    def __init__(self, *args, show_account_manager: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_account_manager:
            # A manager sees only their own customers: a manager filter would only confuse.
            del self.filters["account_manager"]
        fields = self.form.fields
        labels = {
            "search": _("Search"),
            "tier": _("Tier"),
            "industry": _("Industry"),
            "customer_type": _("Customer type"),
            "region": _("Region"),
            "lifecycle": _("Lifecycle stage"),
            "flagged": _("Early warning"),
        }
        for name, label in labels.items():
            fields[name].label = label
            fields[name].help_text = ""
        fields["tier"].queryset = Tier.objects.order_by("rank")
        fields["tier"].empty_label = _("All tiers")
        fields["industry"].empty_label = _("All industries")
        fields["flagged"].widget = forms.Select(
            choices=[("", _("Any")), ("true", _("With warnings")), ("false", _("Without warnings"))]
        )
        fields["search"].widget.attrs.update(placeholder=_("Code or name"), type="search")
        fields["region"].widget.attrs.update(placeholder=_("e.g. 华东"))
        fields["contact"].help_text = ""
        for name in ("score_min", "score_max", "updated_since"):
            # Offered by the API; the page keeps its filter bar short.
            self.form.fields[name].widget = forms.HiddenInput()

    def filter_contact(self, queryset, name, value):
        """Overdue: due before today; due: within the next 7 days, overdue ones included."""
        today = local_today()
        if value == "overdue":
            return queryset.filter(contact_status__due_on__lt=today)
        if value == "due":
            return queryset.filter(contact_status__due_on__lte=today + datetime.timedelta(days=DUE_SOON_DAYS))
        return queryset


class SortForm(forms.Form):
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, label=_("Sort by"))

    def cleaned_sort(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else None) or CUSTOMER_DEFAULT_SORT


class CustomerEditForm(forms.Form):
    """The customer page's edit form. Only parses: who may change what, and which changes need a
    reason, is crm.services' rule, whose refusals come back as errors on the fields. Scoring inputs
    are offered to tier administrators only (`governed`); others see them read-only on the page."""

    industry = forms.ModelChoiceField(queryset=Industry.objects.all(), to_field_name="code", required=False)
    customer_type = forms.ChoiceField(choices=Customer.CustomerType.choices, required=False)
    # A date input reads and writes ISO dates only: a localised value (2023/01/02 in Chinese) would
    # show empty and clear the date when the form is saved.
    cooperation_since = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    account_manager = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
        required=False,
    )
    potential_rating = forms.IntegerField(min_value=0, max_value=10, required=False)
    # Prospects only (no cooperation date: no deal yet): how soon a first deal is expected.
    prospect_grade = forms.ChoiceField(
        label=_("Pipeline grade"), choices=[("", "—"), *Customer.ProspectGrade.choices], required=False
    )
    expected_close_on = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown in the record changes below. Needed to change the potential rating."),
    )

    def __init__(self, *args, customer: Customer, governed: bool, **kwargs):
        initial = {
            "industry": customer.industry,
            "customer_type": customer.customer_type,
            "cooperation_since": customer.cooperation_since,
            "account_manager": customer.account_manager,
            "potential_rating": customer.potential_rating,
        }
        super().__init__(
            *args,
            initial={
                **initial,
                "prospect_grade": customer.prospect_grade,
                "expected_close_on": customer.expected_close_on,
            },
            **kwargs,
        )
        for name in initial:
            self.fields[name].label = customer_column(name).label
        if customer.cooperation_since is not None:
            del self.fields["prospect_grade"], self.fields["expected_close_on"]
        if not governed:
            for name in CUSTOMER_GOVERNED_FIELDS:
                del self.fields[name]

    def changes(self) -> dict:
        """The submitted fields (a field left out of the request is no change)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "reason" and name in self.data}

    def add_domain_error(self, error: DomainError) -> None:
        """A service's refusal as errors on the fields it names (the form's own errors otherwise)."""
        for name, messages in (error.fields or {"__all__": [error.message]}).items():
            for message in messages:
                self.add_error(name if name in self.fields else None, str(message))


class NoticeAcknowledgeForm(forms.Form):
    """Only the user's own notices are valid choices, so someone else's id is a form error."""

    notice = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Notices"),
        error_messages={
            "required": _("Select at least one notice."),
            "invalid_choice": _("Notice %(value)s is not one of yours."),
            "invalid_pk_value": _("“%(pk)s” is not a notice number."),
        },
    )

    def __init__(self, *args, notices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notice"].queryset = notices


class RunStartForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),  # ISO, whatever the language
        help_text=_("Scores use the 12 months up to this day."),
    )
    force = forms.BooleanField(
        label=_("Run again even if this period has been tiered"),
        required=False,
    )
