"""Admin for customer records. Writes go through crm.services, like the API and imports, so a complaint
or an order entered here re-evaluates its customer as one pushed through the API does."""

import datetime

from django import forms
from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.access import rows_visible_to, user_sees_sensitive_fields
from core.admin import PinyinOrderingAdminMixin, ReadOnlyAdminMixin
from core.exceptions import DomainError
from crm import services
from crm.admin_imports import ImportAdminMixin
from crm.columns import CUSTOMER_FILE_COLUMNS, ORDER_FILE_COLUMNS
from crm.imports import customers_import, orders_import
from crm.models import SURVEY_CHANNEL_LABELS, Customer, Industry, Interaction, Order, SatisfactionSurvey
from crm.selectors import customers_visible_to

SENSITIVE_FIELDS = ("tax_id", "bank_account")
RECENT_ROWS = 10


@admin.register(Industry)
class IndustryAdmin(PinyinOrderingAdminMixin, admin.ModelAdmin):
    pinyin_ordering_fields = ("name_zh", "name_en")
    list_display = ["code", "name_zh", "name_en", "strategic"]
    list_filter = ["strategic"]
    search_fields = ["code", "name_zh", "name_en"]


class _RecentFormSet(forms.BaseInlineFormSet):
    """Only the latest rows: a long-standing customer may have thousands of orders."""

    def get_queryset(self):
        return super().get_queryset()[:RECENT_ROWS]


class _ReadOnlyRecentInline(ReadOnlyAdminMixin, admin.TabularInline):
    formset = _RecentFormSet
    extra = 0
    can_delete = False
    show_change_link = True


class RecentOrderInline(_ReadOnlyRecentInline):
    model = Order
    fields = readonly_fields = ["ordered_at", "amount", "source", "external_ref"]
    verbose_name_plural = _("recent orders")


class RecentInteractionInline(_ReadOnlyRecentInline):
    model = Interaction
    fields = readonly_fields = ["occurred_at", "kind", "outcome", "note", "recorded_by"]
    verbose_name_plural = _("recent interactions")


class CustomerAdminForm(forms.ModelForm):
    """Users without crm.view_sensitive_fields never get clear tax IDs or bank accounts in the page:
    the inputs start empty, show the masked value, and an empty input keeps what is stored.

    A change is checked by the rules of crm.services (who may change scoring inputs, which changes
    need a reason) before it is saved, so a refusal is a form error on the field, not a crash."""

    sensitive_visible = True
    changed_by = None  # the user editing, set per request by CustomerAdmin.get_form

    change_reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=services.REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text=_(
            "Kept in the customer's record changes. Needed when an account manager changes the potential rating."
        ),
    )

    class Meta:
        model = Customer
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.sensitive_visible or not self.instance.pk:
            return
        for name in SENSITIVE_FIELDS:
            if name not in self.fields:
                continue
            field = self.fields[name]
            stored = getattr(self.instance, name)
            self.initial[name] = ""
            field.required = False
            field.widget = forms.TextInput(attrs={"autocomplete": "off", "placeholder": crypto.mask(stored)})
            field.help_text = (
                _("Stored value hidden (%(masked)s). Leave empty to keep it; type a new value to replace it.")
                % {"masked": crypto.mask(stored) or _("empty")}
            )

    def _keep_stored(self, name):
        value = self.cleaned_data.get(name)
        if not self.sensitive_visible and self.instance.pk and not value:
            return getattr(self.instance, name)  # still the stored value: the form has not written to it yet
        return value

    def clean_tax_id(self):
        return self._keep_stored("tax_id")

    def clean_bank_account(self):
        return self._keep_stored("bank_account")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        changed = [name for name in self.changed_data if name in services.CUSTOMER_EDITABLE_FIELDS]
        forbidden, invalid = services.customer_changes_problems(
            changed=changed, changed_by=self.changed_by, reason=cleaned.get("change_reason", "")
        )
        for name, message in {**forbidden, **invalid}.items():
            self.add_error(name if name in self.fields else "change_reason", message)
        return cleaned


@admin.register(Customer)
class CustomerAdmin(PinyinOrderingAdminMixin, ImportAdminMixin, admin.ModelAdmin):
    pinyin_ordering_fields = ("name",)
    import_function = staticmethod(customers_import)
    import_columns = CUSTOMER_FILE_COLUMNS
    import_takes_reason = True
    import_help = _(
        "A row with a customer code updates that customer with the file's columns, so a file with codes may "
        "carry just the columns to change, and an exported customer list imports back as it is; a row without "
        "a code creates a customer."
    )
    form = CustomerAdminForm
    list_display = [
        "code", "name", "industry", "customer_type", "tier_badge", "score", "spend_12m", "figures_as_of",
        "account_manager", "status",
    ]
    list_display_links = ["code", "name"]
    list_filter = [
        "industry", "tier", ("account_manager", admin.RelatedOnlyFieldListFilter), "status", "customer_type",
        "lifecycle",
    ]
    list_select_related = ["industry", "tier", "account_manager"]
    search_fields = ["code", "name", "contact_person"]
    autocomplete_fields = ["account_manager", "industry"]
    show_full_result_count = False
    list_per_page = 50
    inlines = [RecentOrderInline, RecentInteractionInline]
    readonly_fields = [
        "code", "tier", "computed_tier", "score", "tiered_at", "lifecycle", "flags", "spend_12m", "last_order_at",
        "figures_as_of", "created_at", "updated_at", "tax_id_masked", "bank_account_masked", "all_records",
    ]
    fieldsets = [
        (None, {"fields": ["code", "name", "industry", "customer_type", "status", "account_manager",
                           "change_reason"]}),
        (_("Profile"), {"fields": ["region", "company_size", "cooperation_since", "potential_rating", "language"]}),
        (_("Contact"), {"fields": ["contact_person", "contact_phone", "contact_email"]}),
        (_("Sensitive identifiers"), {"fields": ["tax_id", "bank_account"]}),
        (_("Standing (written by tier runs)"), {
            "fields": ["tier", "computed_tier", "score", "tiered_at", "lifecycle", "flags", "spend_12m",
                       "last_order_at", "figures_as_of"],
        }),
        (_("Records"), {"fields": ["all_records", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return customers_visible_to(request.user, super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return [fs for fs in fieldsets if "all_records" not in fs[1]["fields"] and "tier" not in fs[1]["fields"]]
        if not user_sees_sensitive_fields(request.user) and not self.has_change_permission(request, obj):
            # A read-only page would print the model's clear values: show the masked ones instead.
            swap = {"tax_id": "tax_id_masked", "bank_account": "bank_account_masked"}
            return [(title, {**opts, "fields": [swap.get(f, f) for f in opts["fields"]]}) for title, opts in fieldsets]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not services.user_may_change_scoring_inputs(request.user):
            readonly += sorted(services.CUSTOMER_GOVERNED_FIELDS)  # tier administrators' to change
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.sensitive_visible = user_sees_sensitive_fields(request.user)
        form.changed_by = request.user
        return form

    @admin.display(description=_("tier"), ordering="tier__rank")
    def tier_badge(self, obj):
        if obj.tier is None:
            return "-"
        return format_html('<span class="tier-badge" data-tier="{}">{}</span>', obj.tier.code, obj.tier.name)

    @admin.display(description=_("tax or ID number"))
    def tax_id_masked(self, obj):
        return crypto.mask(obj.tax_id) or "-"

    @admin.display(description=_("bank account"))
    def bank_account_masked(self, obj):
        return crypto.mask(obj.bank_account) or "-"

    @admin.display(description=_("all records"))
    def all_records(self, obj):
        links = [
            (reverse(f"admin:crm_{model}_changelist"), obj.pk, label)
            for model, label in (("order", _("orders")), ("interaction", _("interactions")),
                                 ("satisfactionsurvey", _("surveys")))
        ]
        return format_html_join(" · ", '<a href="{}?customer__id__exact={}">{}</a>', links)

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in form.cleaned_data
            if name in services.CUSTOMER_EDITABLE_FIELDS and (not change or name in form.changed_data)
        }
        reason = form.cleaned_data.get("change_reason", "")
        if change:
            services.customer_update(customer=obj, changed_by=request.user, reason=reason, **fields)
            return
        created = services.customer_create(created_by=request.user, reason=reason, **fields)
        obj.pk, obj.code, obj.created_at, obj.updated_at = created.pk, created.code, created.created_at, created.updated_at
        obj._state.adding = False
        obj._state.db = created._state.db


class _CustomerScopedAdmin(admin.ModelAdmin):
    """Rows of customers the user may see; customer picked with autocomplete (there may be 100,000)."""

    autocomplete_fields = ["customer"]
    show_full_result_count = False

    def get_queryset(self, request):
        return rows_visible_to(request.user, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """The customer of a new or edited row: only one the user may see, whatever id is posted."""
        if db_field.name == "customer":
            kwargs["queryset"] = customers_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("customer"), ordering="customer__code")
    def customer_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:crm_customer_change", args=[obj.customer_id]), obj.customer
        )


@admin.register(Order)
class OrderAdmin(ImportAdminMixin, _CustomerScopedAdmin):
    import_function = staticmethod(orders_import)
    import_columns = ORDER_FILE_COLUMNS
    list_display = ["external_ref", "source", "customer_link", "amount", "ordered_at", "created_at"]
    list_filter = ["source", "customer__industry", "customer__tier", "customer__account_manager", "ordered_at"]
    list_select_related = ["customer"]
    search_fields = ["external_ref", "customer__code", "customer__name"]
    date_hierarchy = "ordered_at"
    readonly_fields = ["created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            services.order_update(order=obj)
            return
        # New orders take the same path as pushed ones (idempotent on source + external_ref).
        row = {f: getattr(obj, f) for f in ("customer", "amount", "ordered_at", "source", "external_ref")}
        services.orders_ingest(rows=[row])
        stored = Order.objects.get(source=obj.source, external_ref=obj.external_ref)
        obj.pk, obj.created_at = stored.pk, stored.created_at
        obj._state.adding = False


def _interaction_save(pk, values: dict, changed: list[str], user) -> Interaction:
    """The admin's write of an activity, through crm.services: its date and time when given (the date
    feeds the metrics); a date changed on its own keeps the time of day."""
    moment = values.get("happened_at") or values.get("occurred_at")
    if values.get("happened_at") and "occurred_at" in changed and "happened_at" not in changed:
        time_of_day = timezone.localtime(values["happened_at"]).time()
        moment = timezone.make_aware(datetime.datetime.combine(values["occurred_at"], time_of_day))
    row = {
        "customer": values.get("customer"),
        "kind": values.get("kind"),
        "occurred_at": moment,
        "note": values.get("note") or "",
        "duration_minutes": values.get("duration_minutes"),
        "outcome": values.get("outcome") or "",
    }
    if pk is None:
        return services.interactions_record(rows=[row], recorded_by=user).objects[0]
    return services.interaction_update(interaction=Interaction.objects.get(pk=pk), **row)


class InteractionAdminForm(forms.ModelForm):
    """Checked by crm.services' own rules (nothing in the future, a duration in range...) by trying
    the write and rolling it back, so a refusal is an error on its field, not a crash."""

    user = None  # the user editing, set per request by InteractionAdmin.get_form

    class Meta:
        model = Interaction
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                _interaction_save(self.instance.pk, cleaned, self.changed_data, self.user)
                transaction.set_rollback(True)
        except DomainError as exc:
            for error in exc.fields.get("rows", []):
                self.add_error(error["field"] if error["field"] in self.fields else None, error["message"])
        return cleaned


@admin.register(Interaction)
class InteractionAdmin(_CustomerScopedAdmin):
    form = InteractionAdminForm
    list_display = [
        "occurred_at", "happened_at", "kind", "customer_link", "duration_minutes", "outcome", "recorded_by",
        "short_note",
    ]
    list_filter = ["kind", "customer__industry", "customer__tier", "customer__account_manager", "occurred_at"]
    list_select_related = ["customer", "recorded_by"]
    search_fields = ["customer__code", "customer__name", "note"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["recorded_by", "created_at"]

    @admin.display(description=_("note"))
    def short_note(self, obj):
        return (obj.note[:60] + "…") if len(obj.note) > 60 else obj.note

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        stored = _interaction_save(obj.pk if change else None, form.cleaned_data, form.changed_data, request.user)
        obj.pk, obj.recorded_by, obj.created_at = stored.pk, stored.recorded_by, stored.created_at
        obj.occurred_at, obj.happened_at = stored.occurred_at, stored.happened_at
        obj._state.adding = False


class SurveyChannelFilter(admin.SimpleListFilter):
    """The channels in use, by their labels (SURVEY_CHANNEL_LABELS) rather than as stored."""

    title = _("channel")
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        channels = model_admin.get_queryset(request).exclude(channel="").values_list("channel", flat=True)
        return [(channel, SURVEY_CHANNEL_LABELS.get(channel, channel)) for channel in channels.distinct().order_by()]

    def queryset(self, request, queryset):
        return queryset.filter(channel=self.value()) if self.value() else queryset


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(_CustomerScopedAdmin):
    list_display = ["surveyed_at", "score", "customer_link", "channel_label"]
    list_filter = [
        SurveyChannelFilter, "customer__industry", "customer__tier", "customer__account_manager", "surveyed_at",
    ]
    list_select_related = ["customer"]
    search_fields = ["customer__code", "customer__name"]
    date_hierarchy = "surveyed_at"
    readonly_fields = ["created"]

    @admin.display(description=_("channel"), ordering="channel")
    def channel_label(self, obj):
        return obj.get_channel_display()

    # The model field has no translated label yet (a crm migration would give it one).
    @admin.display(description=_("created"))
    def created(self, obj):
        return obj.created_at

    def get_changeform_initial_data(self, request):
        return {"surveyed_at": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            services.survey_update(survey=obj)
            return
        row = {"customer": obj.customer, "score": obj.score, "surveyed_at": obj.surveyed_at, "channel": obj.channel}
        stored = services.surveys_record(rows=[row]).objects[0]
        obj.pk, obj.created_at = stored.pk, stored.created_at
        obj._state.adding = False
