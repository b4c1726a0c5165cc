"""Admin forms. They check input through `scoring.validation`, the same checks the API uses."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from scoring.metrics import METRIC_CHOICES
from scoring.models import ScoreRule, ScoringProfile, Tier
from scoring.validation import (
    REASON_MAX_LENGTH,
    REASON_REQUIRED,
    RULE_FIELDS,
    SPLIT_FIELDS,
    TIER_EDITABLE_FIELDS,
    split_clean,
    validate_profile_rules,
    validate_tier_thresholds,
)


def reason_field(*, required: bool = True, label=None, help_text=None) -> forms.CharField:
    """The 'why' of a change: kept as the change reason of every history row the save makes."""
    return forms.CharField(
        label=label or _("Reason for this change"),
        required=required,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        error_messages={"required": REASON_REQUIRED},
        help_text=help_text
        or _("Kept in the history with who changed what and when, e.g. “Q3 review: frequency over-rewarded”."),
    )


class ReasonFormMixin:
    """The reason says why the data changed; it is not itself a change (no new version, no history row)."""

    @property
    def changed_data(self) -> list[str]:
        return [name for name in super().changed_data if name != "change_reason"]


class ScoringProfileForm(ReasonFormMixin, forms.ModelForm):
    """A profile's own fields, its category split and the reason for the change.

    The split is checked here; the rules are checked against it by the rule formset, which Django
    admin validates after this form (the posted split is then on the instance)."""

    change_reason = reason_field()

    class Meta:
        model = ScoringProfile
        fields = "__all__"

    def __init__(self, *args, reason_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["change_reason"].required = reason_required  # simulating saves nothing, so needs no reason

    def clean(self):
        cleaned = super().clean()
        fields = list(SPLIT_FIELDS.values())
        if any(field not in self.fields or self.has_error(field) for field in fields):
            return cleaned
        _split, errors = split_clean({category: cleaned.get(field) for category, field in SPLIT_FIELDS.items()})
        for key, messages in errors.items():
            self.add_error(key if key in self.fields else SPLIT_FIELDS[ScoreRule.Category.QUALITATIVE], messages)
        return cleaned


class ScoreRuleForm(forms.ModelForm):
    metric = forms.ChoiceField(
        label=_("metric"),
        choices=[("", "---------"), *METRIC_CHOICES],
        help_text=_("What is measured, over the 12 months up to the as-of date."),
    )

    class Meta:
        model = ScoreRule
        fields = RULE_FIELDS
        help_texts = {
            "category": _(
                "Quantitative and qualitative rules add up to the profile's split (e.g. 60 / 40); "
                "bonus points lift a total up to 100."
            ),
            "weight": _("Points this rule is worth at most."),
            "floor": _("Linear: the value that earns nothing."),
            "cap": _("Linear: the value that earns the full weight."),
            "direction": _("Lower is better for e.g. complaints or days since the last order."),
        }
        widgets = {"bands": forms.TextInput(attrs={"size": 18, "placeholder": "[[1, 0.5], [3, 1]]"})}


def rule_dicts_from_formset(formset) -> list[dict]:
    """The rule set a formset would save: kept forms in order, with the stored rule's id."""
    rules = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE") or (form.instance.pk is None and not form.has_changed()):
            continue
        rule = {field: data.get(field) for field in RULE_FIELDS}
        rule["id"] = form.instance.pk
        rules.append(rule)
    return rules


def _kept_forms(formset) -> list:
    return [
        form
        for form in formset.forms
        if getattr(form, "cleaned_data", None)
        and not form.cleaned_data.get("DELETE")
        and (form.instance.pk is not None or form.has_changed())
    ]


class ScoreRuleInlineFormSet(forms.BaseInlineFormSet):
    """Validates the whole rule set of a profile at once: each category against the profile's
    split, caps, bands, duplicate metrics."""

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        kept = _kept_forms(self)
        errors = validate_profile_rules(rule_dicts_from_formset(self), split=self.instance.split)
        set_errors = []
        for key, messages in errors.items():
            if key.startswith("rules[") and "]." in key:
                index, field = key[len("rules[") :].split("].", 1)
                form = kept[int(index)]
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            elif key == "rules":
                set_errors.extend(messages)
            # the split's own problems are shown on the profile form's fields
        if set_errors:
            raise ValidationError(set_errors)


class TierForm(ReasonFormMixin, forms.ModelForm):
    """One tier; its threshold is checked against the other tiers as they are stored."""

    change_reason = reason_field()

    class Meta:
        model = Tier
        fields = list(TIER_EDITABLE_FIELDS)
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}

    def clean(self):
        cleaned = super().clean()
        min_score = cleaned.get("min_score")
        if min_score is None or self.instance.pk is None:
            return cleaned
        others = Tier.objects.exclude(pk=self.instance.pk)
        rows = [{"code": t.code, "rank": t.rank, "name": t.name, "min_score": t.min_score} for t in others]
        rows.append(
            {
                "code": self.instance.code,
                "rank": self.instance.rank,
                "name": cleaned.get("name_en") or self.instance.name,
                "min_score": min_score,
            }
        )
        errors = validate_tier_thresholds(rows)
        if errors.get("min_score"):
            self.add_error("min_score", errors["min_score"])
        return cleaned


class ThresholdsForm(forms.Form):
    """Every tier's minimum score at once, for simulating and saving a threshold change.

    A reason is needed to save, not to simulate, so the browser is not asked to insist on one
    (the admin's own forms are `novalidate` too)."""

    use_required_attribute = False
    change_reason = reason_field(required=False)

    def __init__(self, *args, tiers: list[Tier], reason_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.tiers = tiers
        self.fields["change_reason"].required = reason_required
        for tier in tiers:
            self.fields[tier.code] = forms.DecimalField(
                label=tier.name,
                min_value=Decimal(0),
                max_value=Decimal(100),
                decimal_places=2,
                initial=tier.min_score,
                help_text=_("Target share %(share)s%%") % {"share": tier.target_share},
            )

    def tier_fields(self) -> list:
        """The bound minimum-score fields, highest tier first (the reason is shown apart, by the Save button)."""
        return [self[tier.code] for tier in self.tiers]

    def clean(self):
        cleaned = super().clean()
        if any(tier.code in self.errors for tier in self.tiers):
            return cleaned
        rows = [{"code": t.code, "rank": t.rank, "name": t.name, "min_score": cleaned.get(t.code)} for t in self.tiers]
        errors = validate_tier_thresholds(rows)
        for key, messages in errors.items():
            code = key.split(".", 1)[0]
            if key != "min_score" and code in self.fields:
                for message in messages:
                    self.add_error(code, message)
        if errors.get("min_score"):
            raise ValidationError(errors["min_score"])
        return cleaned

    def min_scores(self) -> dict[str, Decimal]:
        return {t.code: self.cleaned_data[t.code] for t in self.tiers}


class CalibrationApplyForm(ThresholdsForm):
    """The suggested thresholds as posted back by Apply, with the date they were computed for.

    The change reason is written for the person ("Calibration to target shares as of ..."); they
    may add a note to it."""

    as_of = forms.DateField(widget=forms.HiddenInput)
    change_reason = reason_field(
        required=False,
        label=_("Note (optional)"),
        help_text=_("Added to the recorded reason “Calibration to target shares as of …”."),
    )
