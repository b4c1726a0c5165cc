"""Forms of the case and results pages. They only parse what a person typed: what is allowed (a
resolution before closing, a grade only at close, a known customer...) is
commitments.services.cases' rule, whose refusals come back beside the fields they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from commitments.models import Case
from web.service_forms import DomainErrorFormMixin

SCOPE_MINE = "mine"
SCOPE_ALL = "all"
BREACHED_YES = "yes"
BREACHED_NO = "no"


class CaseOpenForm(DomainErrorFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Case.Kind.choices, initial=Case.Kind.REQUEST)
    severity = forms.TypedChoiceField(
        label=_("Severity"), choices=Case.Severity.choices, coerce=int, initial=Case.Severity.NORMAL
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Case.Channel.choices, initial=Case.Channel.PHONE)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=20000
    )
    activity = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CaseReplyForm(DomainErrorFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The first reply stops the first-response clock."),
    )


class CaseStatusForm(DomainErrorFormMixin, forms.Form):
    """One form for every move; the page shows the fields each move needs."""

    status = forms.ChoiceField(label=_("Status"), choices=Case.Status.choices, widget=forms.HiddenInput)
    resolution = forms.CharField(label=_("Resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    satisfaction = forms.ChoiceField(
        label=_("Customer satisfaction"),
        required=False,
        choices=[("", _("Not asked")), *Case.Satisfaction.choices],
    )


class CaseFilterForm(forms.Form):
    """The cases list's filters; every value lives in the URL so a list can be shared."""

    scope = forms.ChoiceField(
        label=_("Cases"),
        required=False,
        choices=[(SCOPE_MINE, _("Mine")), (SCOPE_ALL, _("All I can see"))],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), ("active", _("Open or in progress")), *Case.Status.choices],
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind")), *Case.Kind.choices])
    breached = forms.ChoiceField(
        label=_("First response"),
        required=False,
        choices=[
            ("", _("Any")),
            (BREACHED_YES, _("Deadline missed")),
            (BREACHED_NO, _("Deadline kept or still running")),
        ],
    )


class ResultsForm(forms.Form):
    quarters = forms.CharField(
        label=_("Quarters"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "2026-Q1,2026-Q2"}),
        help_text=_("Comma-separated, e.g. 2026-Q1,2026-Q2; empty: the last four quarters."),
    )
