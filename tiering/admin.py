"""Admin for runs (read-only, with progress and rule book), history, notices, overrides and the
tiering settings. Every change of an override or of the settings asks why; the history pages
(simple-history) show who, when, why and each field before and after."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from core.access import rows_visible_to, user_sees_all_customers
from core.admin import ReadOnlyAdminMixin
from core.exceptions import DomainError
from crm.models import Industry
from scoring.metrics import metric_label
from scoring.models import ScoreRule
from tiering import selectors, services
from tiering.models import Notice, TierAssignment, TierChange, TieringSettings, TierOverride, TierRun, TierRunChunk
from tiering.rulebook import SETTINGS_FIELDS, Rulebook
from tiering.services.settings import REASON_MAX_LENGTH


def change_reason_field() -> forms.CharField:
    """The why of a change: kept as the change reason of the history row the save writes."""
    return forms.CharField(
        label=_("reason for this change"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        error_messages={"required": _("Say why this changes; the history keeps it beside who changed what and when.")},
        help_text=_("Required. Kept in the history beside who changed what and when."),
    )


class ReasonFormMixin:
    """The reason is not itself a change of the row (no "changed" message for it alone)."""

    @property
    def changed_data(self) -> list[str]:
        return [name for name in super().changed_data if name != "change_reason"]


def _number(value: float) -> str:
    """A snapshot value as people read it: grouped, at most four decimals (stored unrounded)."""
    return f"{value:,.4f}".rstrip("0").rstrip(".")


class CustomerScopedMixin:
    """Account managers see only rows of their own customers, in admin as everywhere else."""

    def get_queryset(self, request):
        return rows_visible_to(request.user, super().get_queryset(request), customer_path="customer")


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """History is append-only: admins look, they never edit."""


class TierRunChunkInline(admin.TabularInline):
    model = TierRunChunk
    fields = ("index", "first_customer_id", "last_customer_id", "size", "status", "attempts", "finished_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TierRun)
class TierRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "period",
        "scope",
        "trigger",
        "status",
        "dry_run",
        "progress",
        "upgrades",
        "downgrades",
        "started_at",
        "finished_at",
    )
    list_filter = ("status", "scope", "trigger", "dry_run")
    search_fields = ("period",)
    list_select_related = ("started_by",)
    readonly_fields = [*(f.name for f in TierRun._meta.fields if f.name != "rulebook"), "rulebook_display"]
    inlines = [TierRunChunkInline]
    actions = ["resume_runs"]

    @admin.display(description=_("progress"))
    def progress(self, run):
        return f"{run.done}/{run.total} ({run.progress_percent}%)"

    @admin.display(description=_("rule book"))
    def rulebook_display(self, run):
        """The frozen rule book as tables: profiles and their rules, tiers, settings."""
        if not run.rulebook:
            return render_to_string("admin/tiering/rulebook.html", {"rulebook": None})
        rulebook = Rulebook(run.rulebook, frozen=True)
        categories = dict(ScoreRule.Category.choices)
        normalisations = dict(ScoreRule.Normalisation.choices)
        directions = dict(ScoreRule.Direction.choices)
        industry_ids = {pk for profile in run.rulebook["profiles"] for pk in profile["industry_ids"]}
        industries = {industry.pk: str(industry) for industry in Industry.objects.filter(pk__in=industry_ids)}
        profiles = [
            {
                **profile,
                "industries": [industries.get(pk, pk) for pk in profile["industry_ids"]],
                "rules": [
                    {
                        **rule,
                        "label": metric_label(rule["metric"]),
                        "category": categories.get(rule["category"], rule["category"]),
                        "normalisation": normalisations.get(rule["normalisation"], rule["normalisation"]),
                        "direction": directions.get(rule["direction"], rule["direction"]),
                    }
                    for rule in profile["rules"]
                ],
            }
            for profile in run.rulebook["profiles"]
        ]
        settings = [
            (TieringSettings._meta.get_field(name).verbose_name, run.rulebook["settings"][name])
            for name in SETTINGS_FIELDS
        ]
        populations = [metric_label(metric) for metric in run.populations.values_list("metric", flat=True)]
        return render_to_string(
            "admin/tiering/rulebook.html",
            {
                "rulebook": rulebook,
                "profiles": profiles,
                "settings": settings,
                "metric_keys": [metric_label(key) for key in run.metric_keys],
                "populations": populations,
            },
        )

    @admin.action(description=_("Resume the selected failed or stuck runs"))
    def resume_runs(self, request, queryset):
        resumed = 0
        for run in queryset:
            try:
                services.tier_run_resume(run)
                resumed += 1
            except DomainError as exc:
                self.message_user(request, f"{run}: {exc.message}", messages.ERROR)
        if resumed:
            self.message_user(request, ngettext("%d run resumed.", "%d runs resumed.", resumed) % resumed)

    def has_change_permission(self, request, obj=None):
        # The resume action needs change permission; the fields themselves stay read-only.
        return request.user.has_perm("tiering.change_tierrun")


@admin.register(TierAssignment)
class TierAssignmentAdmin(CustomerScopedMixin, ReadOnlyAdmin):
    list_display = (
        "customer",
        "run",
        "score",
        "computed_tier",
        "tier",
        "previous_tier",
        "overridden",
        "lifecycle",
        "created_at",
    )
    list_filter = ("tier", "overridden", "lifecycle")
    list_select_related = ("customer", "run", "computed_tier", "tier", "previous_tier")
    search_fields = ("customer__code", "customer__name")
    raw_id_fields = ("customer", "run")
    readonly_fields = [
        *(f.name for f in TierAssignment._meta.fields if f.name not in ("metric_values", "point_values")),
        "metric_snapshot",
        "points_snapshot",
    ]
    show_full_result_count = False

    @admin.display(description=_("metrics"))
    def metric_snapshot(self, obj):
        return ", ".join(
            f"{metric_label(key)}: {'—' if value is None else _number(value)}" for key, value in obj.metrics.items()
        )

    @admin.display(description=_("points"))
    def points_snapshot(self, obj):
        return ", ".join(f"{metric_label(key)}: {value}" for key, value in obj.points.items())


@admin.register(TierChange)
class TierChangeAdmin(CustomerScopedMixin, ReadOnlyAdmin):
    list_display = ("customer", "direction", "from_tier", "to_tier", "score_before", "score", "run", "created_at")
    list_filter = ("direction", "to_tier")
    list_select_related = ("customer", "from_tier", "to_tier", "run")
    search_fields = ("customer__code", "customer__name")
    raw_id_fields = ("customer", "run")
    readonly_fields = [f.name for f in TierChange._meta.fields]
    show_full_result_count = False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("customer", "kind", "recipient", "created_at", "acknowledged_at", "acknowledged_by")
    list_filter = ("kind", ("acknowledged_at", admin.EmptyFieldListFilter))
    list_select_related = ("customer", "recipient", "acknowledged_by")
    search_fields = ("customer__code", "customer__name", "recipient__username")
    raw_id_fields = ("customer", "recipient", "change", "run", "acknowledged_by")
    readonly_fields = [f.name for f in Notice._meta.fields]
    actions = ["acknowledge"]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return selectors.notices_visible_to(request.user)

    @admin.action(description=_("Acknowledge the selected notices"))
    def acknowledge(self, request, queryset):
        count = services.notices_acknowledge(user=request.user, notice_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%d notice acknowledged.", "%d notices acknowledged.", count) % count)


class TierOverrideForm(forms.ModelForm):
    """Setting a manual tier: its reason is also why the history changed. Changing one: the
    stored reason stays in the form, so the change asks for its own."""

    class Meta:
        model = TierOverride
        fields = ("customer", "tier", "reason", "expires_on")
        help_texts = {"reason": _("Why the customer gets this tier. Setting it, this is also the history's reason.")}

    def clean(self):
        cleaned = super().clean()
        _tier, _reason, errors = services.override_check(
            tier=cleaned.get("tier"), reason=cleaned.get("reason"), expires_on=cleaned.get("expires_on")
        )
        for name, problems in errors.items():
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)
        return cleaned


class TierOverrideChangeForm(ReasonFormMixin, TierOverrideForm):
    change_reason = change_reason_field()


@admin.register(TierOverride)
class TierOverrideAdmin(CustomerScopedMixin, SimpleHistoryAdmin):
    form = TierOverrideForm
    list_display = ("customer", "tier", "reason", "expires_on", "created_by", "created_at")
    list_filter = ("tier",)
    list_select_related = ("customer", "tier", "created_by")
    search_fields = ("customer__code", "customer__name", "reason")
    # By code or name (CustomerAdmin's search_fields), among the customers the user may see.
    autocomplete_fields = ("customer",)
    # The delete page asks why (delete_confirmation.html); the bulk action would not.
    delete_confirmation_template = "admin/tiering/tieroverride/delete_confirmation.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = TierOverrideChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is not None:
            return ("customer", "tier", "reason", "expires_on", "change_reason")
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ("customer",) if obj is not None else ()

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _visible_or_404(self, request, object_id):
        if user_sees_all_customers(request.user):
            return  # including the history of overrides since removed
        if not self.get_queryset(request).filter(pk=object_id).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context=extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)

    def save_model(self, request, obj, form, change):
        """Through the service, so the customer's tier changes at once and the change is recorded."""
        saved = services.override_set(
            customer=obj.customer if change else form.cleaned_data["customer"],
            tier=form.cleaned_data["tier"],
            reason=form.cleaned_data["reason"],
            expires_on=form.cleaned_data.get("expires_on"),
            set_by=request.user,
            change_reason=form.cleaned_data.get("change_reason"),
        )
        obj.pk = saved.pk

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST" and request.POST.get("post") and not request.POST.get("change_reason", "").strip():
            self.message_user(
                request,
                _("Say why the manual tier goes; the history keeps it beside who removed it and when."),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().delete_view(request, object_id, extra_context=extra_context)

    def delete_model(self, request, obj):
        services.override_remove(
            customer=obj.customer, removed_by=request.user, reason=request.POST.get("change_reason", "")
        )

    def delete_queryset(self, request, queryset):
        for override in queryset.select_related("customer"):
            services.override_remove(customer=override.customer, removed_by=request.user)


class TieringSettingsForm(ReasonFormMixin, forms.ModelForm):
    change_reason = change_reason_field()

    class Meta:
        model = TieringSettings
        fields = "__all__"


@admin.register(TieringSettings)
class TieringSettingsAdmin(SimpleHistoryAdmin):
    form = TieringSettingsForm
    fieldsets = (
        (_("Downgrade grace"), {"fields": ("grace_runs", "grace_buffer", "warning_days_before")}),
        (
            _("Early warnings"),
            {
                "fields": (
                    "spend_up_percent",
                    "spend_down_percent",
                    "complaints_threshold",
                    "complaints_window_days",
                    "no_order_months",
                )
            },
        ),
        (
            _("Lifecycle"),
            {
                "fields": (
                    "lifecycle_new_months",
                    "lifecycle_mature_months",
                    "lifecycle_silent_months",
                    "lifecycle_lost_months",
                )
            },
        ),
        (_("Runs"), {"fields": ("chunk_size", "last_sweep_at")}),
        (_("Why"), {"fields": ("change_reason",)}),
    )
    readonly_fields = ("last_sweep_at",)

    def save_model(self, request, obj, form, change):
        """Through the service, which keeps the reason in the history."""
        services.tiering_settings_save(settings=obj, changed_by=request.user, reason=form.cleaned_data["change_reason"])

    def has_add_permission(self, request):
        return not TieringSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
