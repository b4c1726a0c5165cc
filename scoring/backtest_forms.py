"""Admin forms that start a backtest or a weight suggestion. They only collect what is asked;
scoring.backtest_services checks it (the same checks as the API) and its field-named messages are
put back on these forms' fields."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from scoring.backtest_data import RETENTION_DAYS_DEFAULT
from scoring.backtest_services import SAMPLE_SIZE_DEFAULT
from scoring.metrics import metric_label
from scoring.models import ScoringProfile, Tier

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # ISO, whatever the language


def _date_field(label, help_text, required=False) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DATE_WIDGET, help_text=help_text)


class _CommonFields(forms.Form):
    use_required_attribute = False
    calibrate = forms.BooleanField(
        label=_("Calibrate thresholds to the target shares"),
        required=False,
        help_text=_(
            "Each rule set's thresholds are set so each tier holds about its target share of customers at the "
            "date, as the calibration page does today; otherwise the saved (or draft) thresholds are used."
        ),
    )
    retention_days = forms.IntegerField(
        label=_("“Still ordering” means an order in the last … days"),
        initial=RETENTION_DAYS_DEFAULT,
        min_value=1,
        max_value=365,
        help_text=_("Of the 12 months after the date. The method calls a customer with no order for 3 months lost."),
    )

    def apply_errors(self, fields: dict[str, list[str]]) -> None:
        """The service's field-named messages, on the matching fields (the others above the form)."""
        for key, messages in fields.items():
            name = key.split(".", 1)[0]
            target = self._target(key, name)
            for message in messages:
                self.add_error(target, message)

    def _target(self, key: str, name: str) -> str | None:
        return name if name in self.fields else None


class BacktestForm(_CommonFields):
    """The saved rules at a past date, and optionally draft thresholds beside them."""

    field_order = ["as_of", "calibrate", "retention_days"]

    as_of = _date_field(
        _("Date (T)"),
        _("Customers are scored with the data up to this day, then judged by what they did in the 12 months after it."),
    )

    def __init__(self, *args, tiers: list[Tier], **kwargs):
        super().__init__(*args, **kwargs)
        self.tiers = tiers
        for tier in tiers:
            self.fields[f"min_{tier.code}"] = forms.DecimalField(
                label=tier.name,
                required=False,
                min_value=Decimal(0),
                max_value=Decimal(100),
                decimal_places=2,
                initial=tier.min_score,
                help_text=_("Saved: %(score)s") % {"score": tier.min_score},
            )

    def threshold_fields(self) -> list:
        return [self[f"min_{tier.code}"] for tier in self.tiers]

    def draft_thresholds(self) -> dict[str, Decimal] | None:
        """Thresholds that differ from the saved ones, or None when there are none."""
        changed = {}
        for tier in self.tiers:
            value = self.cleaned_data.get(f"min_{tier.code}")
            if value is not None and value != tier.min_score:
                changed[tier.code] = value
        if not changed:
            return None
        return {tier.code: changed.get(tier.code, tier.min_score) for tier in self.tiers}

    def _target(self, key: str, name: str) -> str | None:
        if name == "thresholds":
            code = key.split(".")[1] if key.count(".") >= 1 else ""
            return f"min_{code}" if f"min_{code}" in self.fields else None
        return super()._target(key, name)


class SuggestionForm(_CommonFields):
    """One profile's weights, searched within bounds on an earlier window, reported on a later one."""

    field_order = ["profile", "objective", "as_of", "fit_as_of", "sample_size", "calibrate", "retention_days"]

    profile = forms.ModelChoiceField(
        label=_("Scoring profile"), queryset=ScoringProfile.objects.filter(is_active=True), widget=forms.HiddenInput
    )
    objective = forms.ChoiceField(
        label=_("Objective"),
        choices=[
            ("rank_correlation", _("Rank correlation of score and next-period spend")),
            ("top_share", _("Top tiers' share of next-period spend")),
        ],
        initial="rank_correlation",
        widget=forms.RadioSelect,
    )
    as_of = _date_field(
        _("Report window date (T)"),
        _(
            "The weights are judged on the 12 months after this day, out of sample. Default: a year before the latest complete month."
        ),
    )
    fit_as_of = _date_field(
        _("Fit window date"),
        _("The weights are fitted on the 12 months after this day, which must end by T. Default: a year before T."),
    )
    sample_size = forms.IntegerField(
        label=_("Customers sampled for the fit, at most"),
        initial=SAMPLE_SIZE_DEFAULT,
        min_value=500,
        max_value=200000,
    )

    def __init__(self, *args, profile: ScoringProfile, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        self.fields["profile"].initial = profile.pk
        self.rules = list(profile.rules.order_by("position", "id"))
        for rule in self.rules:
            label = metric_label(rule.metric)
            for end, initial in (("low", "0"), ("high", f"{float(rule.weight) * 2:g}")):
                self.fields[f"{end}_{rule.metric}"] = forms.DecimalField(
                    label=f"{label} ({end})",
                    min_value=Decimal(0),
                    max_value=Decimal(100),
                    decimal_places=2,
                    initial=initial,
                    widget=forms.NumberInput(attrs={"step": "0.5"}),
                )

    def bound_rows(self) -> list[dict]:
        return [
            {
                "rule": rule,
                "label": metric_label(rule.metric),
                "low": self[f"low_{rule.metric}"],
                "high": self[f"high_{rule.metric}"],
            }
            for rule in self.rules
        ]

    def bounds(self) -> dict[str, list[float]]:
        return {
            rule.metric: [
                float(self.cleaned_data[f"low_{rule.metric}"]),
                float(self.cleaned_data[f"high_{rule.metric}"]),
            ]
            for rule in self.rules
        }

    def _target(self, key: str, name: str) -> str | None:
        if name == "bounds":
            return None  # shown above the bounds table
        return super()._target(key, name)
