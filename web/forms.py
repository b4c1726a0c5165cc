"""Forms of the web pages: the customer list's filters and sort, notice acknowledgement, starting a run."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.filters import CustomerFilter
from crm.models import Customer
from crm.selectors import CUSTOMER_DEFAULT_SORT, account_managers_with_customers
from scoring.models import Tier

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
        for name in ("score_min", "score_max", "updated_since"):
            # Offered by the API; the page keeps its filter bar short.
            self.form.fields[name].widget = forms.HiddenInput()


class SortForm(forms.Form):
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, label=_("Sort by"))

    def cleaned_sort(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else None) or CUSTOMER_DEFAULT_SORT


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
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Scores use the 12 months up to this day."),
    )
    force = forms.BooleanField(
        label=_("Run again even if this period has been tiered"),
        required=False,
    )
