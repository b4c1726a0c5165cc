"""Admin forms. They check input through `scoring.validation`, the same checks the API uses."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from scoring.metrics import METRIC_CHOICES
from scoring.models import ScoreRule, Tier
from scoring.validation import RULE_FIELDS, TIER_EDITABLE_FIELDS, validate_profile_rules, validate_tier_thresholds


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
            "category": _("Quantitative + qualitative weights add up to 100; bonus points lift a total up to 100."),
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
    """Validates the whole rule set of a profile at once: weights, caps, bands, duplicate metrics."""

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        kept = _kept_forms(self)
        errors = validate_profile_rules(rule_dicts_from_formset(self))
        set_errors = []
        for key, messages in errors.items():
            if key.startswith("rules[") and "]." in key:
                index, field = key[len("rules[") :].split("].", 1)
                form = kept[int(index)]
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            else:
                set_errors.extend(messages)
        if set_errors:
            raise ValidationError(set_errors)


class TierForm(forms.ModelForm):
    """One tier; its threshold is checked against the other tiers as they are stored."""

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
    """Every tier's minimum score at once, for simulating and saving a threshold change."""

    def __init__(self, *args, tiers: list[Tier], **kwargs):
        super().__init__(*args, **kwargs)
        self.tiers = tiers
        for tier in tiers:
            self.fields[tier.code] = forms.DecimalField(
                label=tier.name,
                min_value=Decimal(0),
                max_value=Decimal(100),
                decimal_places=2,
                initial=tier.min_score,
                help_text=_("Target share %(share)s%%") % {"share": tier.target_share},
            )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
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
