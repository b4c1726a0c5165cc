"""Admin for scoring profiles, rules and tiers: edit, simulate before saving, calibrate, audit.

Saving goes through `scoring.services` (the same code the REST API calls), so a profile's
rule set is validated as a whole and each save makes exactly one new version.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin import PinyinOrderingAdminMixin
from core.clock import local_today
from core.exceptions import DomainError
from scoring import admin_backtest, backtest_services, selectors, services, simulation
from scoring.calibration import calibration_suggest
from scoring.forms import (
    CalibrationApplyForm,
    ScoreRuleForm,
    ScoreRuleInlineFormSet,
    ScoringProfileForm,
    ThresholdsForm,
    TierForm,
    rule_dicts_from_formset,
)
from scoring.metrics import metric_label
from scoring.models import ScoreRule, ScoringProfile, Tier
from scoring.validation import RULE_FIELDS, TIER_EDITABLE_FIELDS, category_split_text


class ScoreRuleInline(admin.TabularInline):
    model = ScoreRule
    form = ScoreRuleForm
    formset = ScoreRuleInlineFormSet
    extra = 1
    ordering = ["position", "id"]


def _rule_history_rows(profile_id: int) -> list[dict]:
    """Every change to the profile's rules, newest first, with who, why and before -> after per field."""
    records = list(
        ScoreRule.history.filter(profile_id=profile_id)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    previous: dict[int, object] = {}
    rows = []
    for record in records:
        before = previous.get(record.id)
        changes = [
            {
                "field": capfirst(ScoreRule._meta.get_field(field).verbose_name),
                "old": getattr(before, field),
                "new": getattr(record, field),
            }
            for field in RULE_FIELDS
            if before is not None and getattr(before, field) != getattr(record, field)
        ]
        rows.append({"record": record, "metric": metric_label(record.metric), "changes": changes})
        previous[record.id] = record
    return rows[::-1]


@admin.register(ScoringProfile)
class ScoringProfileAdmin(PinyinOrderingAdminMixin, SimpleHistoryAdmin):
    pinyin_ordering_fields = ("name",)
    form = ScoringProfileForm
    list_display = [
        "name",
        "version",
        "is_default",
        "is_active",
        "customer_type",
        "industry_list",
        "category_split",
        "updated_at",
    ]
    list_filter = ["is_active", "is_default", "customer_type"]
    search_fields = ["name", "description"]
    readonly_fields = ["version", "category_split", "updated_at"]
    # The form's change_reason is shown after the rules, by the Save buttons (change_form.html).
    fieldsets = [
        (None, {"fields": ["name", "description", "is_default", "is_active", "customer_type", "industries"]}),
        (
            _("Category split"),
            {
                "fields": ["quantitative_points", "qualitative_points", "category_split"],
                "description": _(
                    "What the quantitative and the qualitative rules must each add up to; together 100 points. "
                    "Bonus rules are outside the split."
                ),
            },
        ),
        (None, {"fields": ["version", "updated_at"]}),
    ]
    inlines = [ScoreRuleInline]
    change_form_template = "admin/scoring/scoringprofile/change_form.html"
    object_history_template = "admin/scoring/scoringprofile/object_history.html"

    class Media:
        css = {"all": ["scoring/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("industries", "rules")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # A dozen industries read best as ticks: the two-list filter widget's help is not in
        # Django's Chinese catalogue, and its "hold down Control" hint does not apply to ticks.
        if db_field.name == "industries":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("industries"))
    def industry_list(self, obj):
        return ", ".join(industry.code for industry in obj.industries.all()) or "—"

    @admin.display(description=_("rules add up to"))
    def category_split(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return category_split_text({"category": rule.category, "weight": rule.weight} for rule in obj.rules.all())

    def revert_disabled(self, request, obj=None):
        return True  # a revert would skip the rule-set validation; edit the profile instead

    # --- saving: one validated rule set, one new version per save -----------------------------

    def save_model(self, request, obj, form, change):
        if not change:
            obj._history_user = request.user
            obj._change_reason = form.cleaned_data["change_reason"]
            obj.save()
        # An existing profile is saved once, with its rules and the next version, in save_related.

    def save_related(self, request, form, formsets, change):
        rules_formset = next(fs for fs in formsets if fs.model is ScoreRule)
        profile = form.instance
        changed = not change or form.has_changed() or rules_formset.has_changed()
        if change:
            profile.skip_history_when_saving = True  # the versioned save below records the industries too
        try:
            form.save_m2m()
        finally:
            if change:
                del profile.skip_history_when_saving
        for formset in formsets:
            if formset is not rules_formset:
                self.save_formset(request, form, formset, change=change)
        _formset_summary(rules_formset)
        if changed:
            services.profile_rules_update(
                profile=profile,
                rules=rule_dicts_from_formset(rules_formset),
                changed_by=request.user,
                reason=form.cleaned_data["change_reason"],
                bump_version=change,
            )

    # --- simulate the unsaved form ------------------------------------------------------------

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        return [
            path("add/simulate/", self.admin_site.admin_view(self.simulate_view), name=f"{app}_{model}_simulate_add"),
            path(
                "<path:object_id>/simulate/",
                self.admin_site.admin_view(self.simulate_view),
                name=f"{app}_{model}_simulate",
            ),
            path("add/backtest/", self.admin_site.admin_view(self.backtest_view), name=f"{app}_{model}_backtest_add"),
            path(
                "<path:object_id>/backtest/",
                self.admin_site.admin_view(self.backtest_view),
                name=f"{app}_{model}_backtest",
            ),
            *super().get_urls(),
        ]

    def simulate_view(self, request, object_id=None):
        """Validate the posted change form and its rules without saving, and show the tier moves."""
        obj = get_object_or_404(ScoringProfile, pk=object_id) if object_id else None
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse("admin:scoring_scoringprofile_change", args=[obj.pk])
                if obj
                else reverse("admin:scoring_scoringprofile_add")
            )
        if not (self.has_change_permission(request, obj) if obj else self.has_add_permission(request)):
            raise PermissionDenied
        change = obj is not None
        form_class = self.get_form(request, obj, change=change)
        form = form_class(request.POST, request.FILES, instance=obj, reason_required=False)
        form_valid = form.is_valid()
        instance = form.instance if form_valid else (obj or ScoringProfile())
        formsets, _inline_instances = self._create_formsets(request, instance, change=change)
        errors = []
        result = None
        if form_valid and all(formset.is_valid() for formset in formsets):
            data = form.cleaned_data
            try:
                draft = simulation.draft_profile_spec(
                    rules=rule_dicts_from_formset(formsets[0]),
                    split=instance.split,
                    profile_id=obj.pk if obj else None,
                    name=data["name"],
                    version=(obj.version + 1) if obj else 1,
                    customer_type=data.get("customer_type") or "",
                    industry_ids=[industry.pk for industry in data.get("industries") or []],
                    is_default=bool(data.get("is_default")),
                )
                result = simulation.simulate(as_of=local_today(), draft_profile=draft)
            except DomainError as exc:
                errors = [exc.message, *(m for messages in exc.fields.values() for m in messages)]
        else:
            errors = _form_errors(form, formsets)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": gettext("Simulation of %(name)s") % {"name": request.POST.get("name") or obj or ""},
            "result": result,
            "errors": errors,
            "split": category_split_text(rule_dicts_from_formset(formsets[0])) if not errors else "",
        }
        return TemplateResponse(request, "admin/scoring/simulation.html", context)

    def backtest_view(self, request, object_id=None):
        """Backtest the posted change form's rules beside the saved ones (nothing is saved): the
        form is checked as for a simulation, then a backtest is queued and its report opened."""
        obj = get_object_or_404(ScoringProfile, pk=object_id) if object_id else None
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse("admin:scoring_scoringprofile_change", args=[obj.pk])
                if obj
                else reverse("admin:scoring_scoringprofile_add")
            )
        if not request.user.has_perm("scoring.add_backtest"):
            raise PermissionDenied
        change = obj is not None
        form = self.get_form(request, obj, change=change)(
            request.POST, request.FILES, instance=obj, reason_required=False
        )
        form_valid = form.is_valid()
        instance = form.instance if form_valid else (obj or ScoringProfile())
        formsets, _inline_instances = self._create_formsets(request, instance, change=change)
        if form_valid and all(formset.is_valid() for formset in formsets):
            data = form.cleaned_data
            draft = {
                "profile": obj.pk if obj else None,
                "rules": rule_dicts_from_formset(formsets[0]),
                "name": data["name"],
                "customer_type": data.get("customer_type") or "",
                "industry_ids": [industry.pk for industry in data.get("industries") or []],
                "is_default": bool(data.get("is_default")),
                **{field: data[field] for field in ("quantitative_points", "qualitative_points")},
            }
            try:
                row = backtest_services.backtest_create(draft=draft, created_by=request.user)
            except DomainError as exc:
                errors = [exc.message, *(m for messages in exc.fields.values() for m in messages)]
            else:
                return HttpResponseRedirect(reverse("admin:scoring_backtest_change", args=[row.pk]))
        else:
            errors = _form_errors(form, formsets)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": gettext("Backtest of %(name)s") % {"name": request.POST.get("name") or obj or ""},
            "errors": errors,
        }
        return TemplateResponse(request, "admin/scoring/backtest/draft_errors.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """`?suggestion=<id>` pre-fills the rules with a weight suggestion's weights (nothing is
        saved until the administrator saves the form, with a reason)."""
        weights = admin_backtest.suggested_weights(request.GET.get("suggestion")) if request.method == "GET" else None
        if weights and obj is not None and "suggestion" in request.GET:
            for inline in context.get("inline_admin_formsets", []):
                for form in inline.formset.forms:
                    if form.instance.pk is not None and form.instance.metric in weights:
                        form.initial["weight"] = weights[form.instance.metric]
            context["suggestion_prefill"] = request.GET["suggestion"]
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def history_view(self, request, object_id, extra_context=None):
        try:
            profile_id = int(unquote(object_id))
        except ValueError:
            raise Http404 from None
        rule_history = _rule_history_rows(profile_id) if self.has_view_or_change_permission(request) else []
        extra_context = {**(extra_context or {}), "rule_history": rule_history}
        return super().history_view(request, object_id, extra_context=extra_context)


def _formset_summary(formset) -> None:
    """What the admin's change message lists, since the service saves the rules, not the formset."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.forms:
        if not getattr(form, "cleaned_data", None):
            continue
        if form.cleaned_data.get("DELETE"):
            if form.instance.pk is not None:
                formset.deleted_objects.append(form.instance)
        elif form.instance.pk is None:
            if form.has_changed():
                formset.new_objects.append(form.instance)
        elif form.has_changed():
            formset.changed_objects.append((form.instance, form.changed_data))


def _form_errors(form, formsets) -> list[str]:
    errors = []
    for field, field_errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        errors.extend(f"{label}: {message}" if label else str(message) for message in field_errors)
    for formset in formsets:
        errors.extend(str(message) for message in formset.non_form_errors())
        for index, form_errors in enumerate(formset.errors, start=1):
            for field, field_errors in form_errors.items():
                fields = formset.forms[index - 1].fields
                label = fields[field].label if field in fields else ""
                errors.extend(
                    gettext("Rule %(n)d, %(field)s: %(message)s") % {"n": index, "field": label, "message": message}
                    for message in field_errors
                )
    return errors


@admin.register(Tier)
class TierAdmin(PinyinOrderingAdminMixin, SimpleHistoryAdmin):
    pinyin_ordering_fields = ("name_zh", "name_en")
    form = TierForm
    list_display = [
        "name_zh",
        "name_en",
        "code",
        "rank",
        "min_score",
        "target_share",
        "swatch",
        "dedicated_manager",
        "visit_frequency_label",
        "first_response_minutes",
    ]
    list_display_links = ["name_zh", "name_en"]
    ordering = ["rank"]
    change_list_template = "admin/scoring/tier/change_list.html"

    class Media:
        css = {"all": ["scoring/admin.css"]}

    @admin.display(description=_("Visit frequency"))
    def visit_frequency_label(self, obj):
        return obj.visit_frequency

    @admin.display(description=_("colour"))
    def swatch(self, obj):
        return format_html('<span class="tier-swatch" title="{}">&#9632; {}</span>', obj.colour, obj.colour)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self.has_change_permission(request, obj):
            return fields
        return [field for field in fields if field != "change_reason"]  # nothing to explain when viewing

    def has_add_permission(self, request):
        return False  # the set of tiers is seeded by migration; thresholds and names are editable

    def has_delete_permission(self, request, obj=None):
        return False

    def revert_disabled(self, request, obj=None):
        return True

    def save_model(self, request, obj, form, change):
        changes = {field: form.cleaned_data[field] for field in form.changed_data if field in TIER_EDITABLE_FIELDS}
        try:
            services.tiers_update(
                changes=[{"code": obj.code, **changes}],
                changed_by=request.user,
                reason=form.cleaned_data["change_reason"],
            )
        except DomainError as exc:  # the form already checked; another admin may have saved meanwhile
            messages.error(request, "; ".join(m for ms in exc.fields.values() for m in ms) or exc.message)

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        return [
            path("thresholds/", self.admin_site.admin_view(self.thresholds_view), name=f"{app}_{model}_thresholds"),
            path("calibrate/", self.admin_site.admin_view(self.calibrate_view), name=f"{app}_{model}_calibrate"),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def thresholds_view(self, request):
        """All thresholds in one form: 'Simulate' shows the tier moves, 'Save' applies them."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        tiers = list(Tier.objects.order_by("rank"))
        form = ThresholdsForm(request.POST or None, tiers=tiers, reason_required="_save" in request.POST)
        result = None
        if request.method == "POST" and form.is_valid():
            min_scores = form.min_scores()
            if "_save" in request.POST:
                try:
                    services.tiers_update(
                        changes=[{"code": code, "min_score": value} for code, value in min_scores.items()],
                        changed_by=request.user,
                        reason=form.cleaned_data["change_reason"],
                    )
                except DomainError as exc:
                    for messages_ in exc.fields.values():
                        for message in messages_:
                            form.add_error(None, message)
                else:
                    messages.success(request, gettext("Thresholds saved."))
                    return HttpResponseRedirect(reverse("admin:scoring_tier_changelist"))
            else:
                specs = simulation.tier_specs_with(selectors.tiers_load(), min_scores)
                result = simulation.simulate(as_of=local_today(), tier_specs=specs)
        return TemplateResponse(
            request,
            "admin/scoring/tier/thresholds.html",
            self._context(request, gettext("Tier thresholds"), form=form, result=result),
        )

    def calibrate_view(self, request):
        """Thresholds that would give each tier its target share today; 'Apply' saves them."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = CalibrationApplyForm(request.POST or None, tiers=list(Tier.objects.order_by("rank")))
        if request.method == "POST":
            if form.is_valid():
                try:
                    services.tiers_calibration_apply(
                        min_scores=form.min_scores(),
                        as_of=form.cleaned_data["as_of"],
                        changed_by=request.user,
                        note=form.cleaned_data["change_reason"],
                    )
                except DomainError as exc:
                    messages.error(request, "; ".join(m for ms in exc.fields.values() for m in ms) or exc.message)
                else:
                    messages.success(request, gettext("Suggested thresholds applied."))
                    return HttpResponseRedirect(reverse("admin:scoring_tier_changelist"))
            else:
                messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
        calibration = calibration_suggest(as_of=local_today())
        initial = {row.tier.code: row.min_score_proposed for row in calibration.simulation.distribution}
        return TemplateResponse(
            request,
            "admin/scoring/tier/calibrate.html",
            self._context(
                request,
                gettext("Calibrate tier thresholds"),
                calibration=calibration,
                result=calibration.simulation,
                initial=initial,
                form=form,
            ),
        )
