"""Admin of service commitments: business calendars (working hours, public holidays and make-up
working days, seeded from the `holidays` package), each tier's service level, playbooks with their
steps, and cases.

Calendars and service levels are checked by their models' clean (a calendar without working time
is refused on the field that makes it so). Cases are opened, answered and moved on through
commitments.services.cases, as the API and the pages do: a case form is checked by trying the
service's write and rolling it back, so every rule of the service is a form error on its field.
Everyone sees only the cases of the customers they see.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from commitments.models import BusinessCalendar, CalendarDay, Case, CaseReply, Playbook, PlaybookStep, ServiceLevel
from commitments.services import cases as case_services
from commitments.services.calendars import calendar_seed_china
from core.access import customers_visible_to, rows_visible_to
from core.admin import ReadOnlyAdminMixin
from core.exceptions import DomainError
from crm.models import Customer, Interaction

# --- calendars and service levels -----------------------------------------------------------------


class CalendarDayInline(admin.TabularInline):
    """Public holidays and make-up working days, each editable (the seeded ones too)."""

    model = CalendarDay
    fields = ["date", "kind", "name"]
    extra = 1
    ordering = ["date"]


class SeedYearForm(ActionForm):
    year = forms.IntegerField(
        label=_("year"),
        required=False,
        min_value=2000,
        max_value=2099,
        help_text=_("For the seed action: the year whose holidays to add."),
    )


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "work_start", "work_end", "weekdays", "holidays", "workdays"]
    search_fields = ["name"]
    inlines = [CalendarDayInline]
    actions = ["seed_china"]
    action_form = SeedYearForm

    def get_queryset(self, request):
        kinds = CalendarDay.Kind
        return (
            super()
            .get_queryset(request)
            .annotate(
                holiday_count=Count("days", filter=Q(days__kind=kinds.HOLIDAY)),
                workday_count=Count("days", filter=Q(days__kind=kinds.WORKDAY)),
            )
        )

    @admin.display(description=_("public holidays"), ordering="holiday_count")
    def holidays(self, obj):
        return obj.holiday_count

    @admin.display(description=_("make-up working days"), ordering="workday_count")
    def workdays(self, obj):
        return obj.workday_count

    @admin.action(description=_("Add mainland China's public holidays and make-up working days for the year given"))
    def seed_china(self, request, queryset):
        try:
            year = SeedYearForm.base_fields["year"].clean(request.POST.get("year") or None)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return
        if year is None:
            messages.error(request, gettext("Give the year whose holidays to add (2000-2099)."))
            return
        for calendar in queryset:
            added = calendar_seed_china(calendar, [year])
            messages.success(
                request,
                ngettext(
                    "%(calendar)s: %(count)d day of %(year)d added.",
                    "%(calendar)s: %(count)d days of %(year)d added.",
                    added,
                )
                % {"calendar": calendar, "count": added, "year": year},
            )


@admin.register(ServiceLevel)
class ServiceLevelAdmin(admin.ModelAdmin):
    list_display = ["__str__", "clock", "calendar", "first_response"]
    list_select_related = ["tier", "calendar"]
    ordering = ["tier__rank"]

    @admin.display(description=_("first response (minutes)"))
    def first_response(self, obj):
        return obj.tier.first_response_minutes if obj.tier_id else obj.response_minutes


# --- playbooks ------------------------------------------------------------------------------------


class PlaybookStepForm(forms.ModelForm):
    contact_kind = forms.ChoiceField(
        label=_("contact to record"),
        choices=[("", "-"), *Interaction.Kind.choices],
        required=False,
        help_text=_("The task records an activity of this kind when completed; empty: none."),
    )

    class Meta:
        model = PlaybookStep
        fields = ["position", "goal", "action", "owner_role", "due_days", "contact_kind", "kpi"]


class PlaybookStepInline(admin.TabularInline):
    model = PlaybookStep
    form = PlaybookStepForm
    extra = 1
    ordering = ["position", "id"]


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "event", "active", "step_count"]
    list_filter = ["event", "tier", "active"]
    list_select_related = ["tier"]
    search_fields = ["name"]
    inlines = [PlaybookStepInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(step_total=Count("steps"))

    @admin.display(description=_("steps"), ordering="step_total")
    def step_count(self, obj):
        return obj.step_total


# --- cases ----------------------------------------------------------------------------------------

CASE_ADD_FIELDS = ["customer", "kind", "severity", "channel", "subject", "description", "owner"]
CASE_CHANGE_FIELDS = ["status", "resolution", "satisfaction"]
CASE_SHOWN_FIELDS = [
    "customer",
    "kind",
    "severity",
    "channel",
    "subject",
    "description",
    "owner",
    "tier",
    "clock",
    "response_minutes",
    "opened_at",
    "first_response_due_at",
    "reminder_at",
    "reminded_at",
    "first_response_at",
    "breached_at",
    "resolved_at",
    "closed_at",
    "survey",
    "activity",
    "created_by",
    "updated_at",
]


def _case_save(case: Case | None, values: dict, changed: list[str], user) -> Case:
    """The admin's write: a new case through case_open; a reply through case_respond and a new
    status through case_transition."""
    if case is None:
        return case_services.case_open(
            customer=values["customer"],
            kind=values["kind"],
            severity=values["severity"],
            channel=values["channel"],
            subject=values["subject"],
            description=values.get("description") or "",
            owner=values.get("owner"),
            user=user,
        )
    if values.get("reply"):
        case_services.case_respond(case=case, user=user, body=values["reply"])
        case.refresh_from_db()
    if {"status", "resolution", "satisfaction"} & set(changed):
        case = case_services.case_transition(
            case=case,
            status=values["status"],
            user=user,
            resolution=values.get("resolution") or "",
            satisfaction=values.get("satisfaction") or "",
        )
    return case


class CaseAdminForm(forms.ModelForm):
    user = None  # the user editing, set per request by CaseAdmin.get_form
    reply = forms.CharField(
        label=_("reply to the customer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("Saved as a reply; the first reply stops the first-response clock."),
    )

    class Meta:
        model = Case
        fields = [*CASE_ADD_FIELDS, *CASE_CHANGE_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Empty: the customer's account manager.")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        case = Case.objects.get(pk=self.instance.pk) if self.instance.pk else None
        try:
            with transaction.atomic():  # the service's own checks: tried, then rolled back
                _case_save(case, cleaned, self.changed_data, self.user)
                transaction.set_rollback(True)
        except DomainError as exc:
            for name, errors in exc.fields.items():
                name = "reply" if name == "body" else name
                self.add_error(name if name in self.fields else None, errors)
            if not exc.fields:
                self.add_error(None, exc.message)
        return cleaned


class CaseReplyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseReply
    fields = ["created_at", "author", "body"]
    readonly_fields = fields
    extra = 0


class BreachedFilter(admin.SimpleListFilter):
    title = _("breached")
    parameter_name = "breached"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(breached_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(breached_at__isnull=True)
        return queryset


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    form = CaseAdminForm
    list_display = [
        "id",
        "subject",
        "customer_link",
        "kind",
        "severity",
        "tier",
        "status",
        "owner",
        "opened_at",
        "first_response_due_at",
        "first_response_at",
        "breached",
    ]
    list_display_links = ["id", "subject"]
    list_filter = ["status", "kind", "tier", BreachedFilter, "severity", "channel"]
    list_select_related = ["customer", "owner", "tier"]
    search_fields = ["customer__code", "subject"]
    autocomplete_fields = ["customer"]
    show_full_result_count = False
    list_per_page = 50
    ordering = ["-opened_at", "-id"]
    date_hierarchy = "opened_at"
    inlines = [CaseReplyInline]

    def get_queryset(self, request):
        return rows_visible_to(request.user, super().get_queryset(request))

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # a new case has no replies yet

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": CASE_ADD_FIELDS})]
        return [
            (None, {"fields": CASE_SHOWN_FIELDS[:7]}),
            (_("First-response clock"), {"fields": CASE_SHOWN_FIELDS[7:16]}),
            (_("Handling"), {"fields": ["reply", *CASE_CHANGE_FIELDS, "resolved_at", "closed_at", "survey"]}),
            (_("Records"), {"fields": ["activity", "created_by", "updated_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = [name for name in CASE_SHOWN_FIELDS if name not in CASE_CHANGE_FIELDS]
        if obj.status == Case.Status.CLOSED:
            readonly += CASE_CHANGE_FIELDS  # closed: history
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            kwargs["queryset"] = customers_visible_to(request.user, Customer.objects.all())
        elif db_field.name == "owner":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # a case is closed, not deleted: it counts in the results

    @admin.display(description=_("customer"), ordering="customer__code")
    def customer_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:crm_customer_change", args=[obj.customer_id]), obj.customer
        )

    @admin.display(description=_("breached"), boolean=True, ordering="breached_at")
    def breached(self, obj):
        return obj.breached_at is not None

    def save_model(self, request, obj, form, change):
        if change:
            _case_save(Case.objects.get(pk=obj.pk), form.cleaned_data, form.changed_data, request.user)
            return
        stored = _case_save(None, form.cleaned_data, form.changed_data, request.user)
        obj.pk, obj.owner, obj.opened_at, obj.updated_at = stored.pk, stored.owner, stored.opened_at, stored.updated_at
        obj._state.adding = False
