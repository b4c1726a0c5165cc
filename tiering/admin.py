"""Admin for runs (read-only, with progress), history, notices, overrides and the tiering settings."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from core.access import rows_visible_to, user_sees_all_customers
from core.admin import ReadOnlyAdminMixin
from core.exceptions import DomainError
from scoring.metrics import metric_label
from tiering import selectors, services
from tiering.models import Notice, TierAssignment, TierChange, TieringSettings, TierOverride, TierRun, TierRunChunk


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
    readonly_fields = [f.name for f in TierRun._meta.fields]
    inlines = [TierRunChunkInline]
    actions = ["resume_runs"]

    @admin.display(description=_("progress"))
    def progress(self, run):
        return f"{run.done}/{run.total} ({run.progress_percent}%)"

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
            f"{metric_label(key)}: {'—' if value is None else value}" for key, value in obj.metrics.items()
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
    class Meta:
        model = TierOverride
        fields = ("customer", "tier", "reason", "expires_on")

    def clean(self):
        cleaned = super().clean()
        _tier, _reason, errors = services.override_check(
            tier=cleaned.get("tier"), reason=cleaned.get("reason"), expires_on=cleaned.get("expires_on")
        )
        for name, problems in errors.items():
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)
        return cleaned


@admin.register(TierOverride)
class TierOverrideAdmin(CustomerScopedMixin, SimpleHistoryAdmin):
    form = TierOverrideForm
    list_display = ("customer", "tier", "reason", "expires_on", "created_by", "created_at")
    list_filter = ("tier",)
    list_select_related = ("customer", "tier", "created_by")
    search_fields = ("customer__code", "customer__name", "reason")
    raw_id_fields = ("customer",)

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
            customer=form.cleaned_data["customer"],
            tier=form.cleaned_data["tier"],
            reason=form.cleaned_data["reason"],
            expires_on=form.cleaned_data.get("expires_on"),
            set_by=request.user,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.override_remove(customer=obj.customer, removed_by=request.user)

    def delete_queryset(self, request, queryset):
        for override in queryset.select_related("customer"):
            services.override_remove(customer=override.customer, removed_by=request.user)


@admin.register(TieringSettings)
class TieringSettingsAdmin(SimpleHistoryAdmin):
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
    )
    readonly_fields = ("last_sweep_at",)

    def has_add_permission(self, request):
        return not TieringSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
