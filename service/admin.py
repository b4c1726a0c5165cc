"""Admin of the service side: contact plans (linked from each tier's page), tasks, contact statuses
and letters sent.

Saving goes through service.services, as the API and the pages do: a contact plan through
contact_plan_save (which brings every customer's contact status in line), a task through the task
services. A task form is checked by trying the service's write and rolling it back, so every rule
of the service (an account manager plans only for themself, the owner must manage the customer...)
is a form error on its field, never a crash. Everyone sees only the rows of the customers they see.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.access import customers_visible_to, rows_visible_to, user_sees_all_customers
from core.admin import ReadOnlyAdminMixin
from core.clock import local_today
from core.exceptions import DomainError
from crm.models import Customer, Interaction
from scoring.admin import TierAdmin
from scoring.models import Tier
from service import selectors
from service.models import ContactPlan, ContactStatus, LetterDispatch, Task
from service.services import contact as contact_services
from service.services import tasks as task_services


def _customer_link(obj):
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:crm_customer_change", args=[obj.customer_id]), obj.customer
    )


# --- contact plans ------------------------------------------------------------------------------


def cadence_text(plan: ContactPlan) -> str:
    if plan.every_days is not None:
        return gettext("Every %(days)d days") % {"days": plan.every_days}
    return gettext("One win-back contact within %(days)d days of entering the tier") % {"days": plan.win_back_days}


def contact_kinds_text(plan: ContactPlan) -> str:
    labels = dict(Interaction.Kind.choices)
    return ", ".join(str(labels.get(kind, kind)) for kind in plan.contact_kinds)


class ContactPlanForm(forms.ModelForm):
    contact_kinds = forms.MultipleChoiceField(
        label=_("activities that count as contact"),
        choices=Interaction.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A logged activity of one of these kinds moves the customer's next contact."),
    )

    class Meta:
        model = ContactPlan
        fields = ["tier", "every_days", "win_back_days", "contact_kinds"]

    def clean_contact_kinds(self):
        chosen = set(self.cleaned_data["contact_kinds"])
        return [kind for kind in Interaction.Kind.values if kind in chosen]  # stored in the kinds' own order


@admin.register(ContactPlan)
class ContactPlanAdmin(admin.ModelAdmin):
    """Each tier's cadence; saving recomputes every customer's contact status."""

    form = ContactPlanForm
    list_display = ["tier", "cadence", "kinds"]
    list_select_related = ["tier"]
    ordering = ["tier__rank"]

    @admin.display(description=_("cadence"))
    def cadence(self, obj):
        return cadence_text(obj)

    @admin.display(description=_("activities that count as contact"))
    def kinds(self, obj):
        return contact_kinds_text(obj)

    def get_readonly_fields(self, request, obj=None):
        return ["tier"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tier":
            kwargs["queryset"] = Tier.objects.filter(contact_plan__isnull=True).order_by("rank")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"tier": request.GET.get("tier"), "contact_kinds": ContactPlan().contact_kinds}

    def has_add_permission(self, request):
        return super().has_add_permission(request) and Tier.objects.filter(contact_plan__isnull=True).exists()

    def has_delete_permission(self, request, obj=None):
        return False  # every seeded tier keeps a plan; change its cadence instead

    def save_model(self, request, obj, form, change):
        contact_services.contact_plan_save(plan=obj)


admin.site.unregister(Tier)


def _contact_plan_column(request):
    """The tier's contact plan, linked to its page for those who may open it: a callable per request
    (the admin instance is shared by every request), the same one each time it is asked for."""
    column = getattr(request, "_contact_plan_column", None)
    if column is not None:
        return column
    user = request.user

    @admin.display(description=_("contact plan"))
    def contact_plan(tier):
        plan = getattr(tier, "contact_plan", None) if tier is not None and tier.pk else None
        if plan is None:
            if tier is not None and tier.pk and user.has_perm("service.add_contactplan"):
                url = reverse("admin:service_contactplan_add")
                return format_html('<a href="{}?tier={}">{}</a>', url, tier.pk, gettext("No contact plan: add one"))
            return "-"
        text = f"{cadence_text(plan)} ({contact_kinds_text(plan)})"
        if user.has_perm("service.change_contactplan") or user.has_perm("service.view_contactplan"):
            return format_html('<a href="{}">{}</a>', reverse("admin:service_contactplan_change", args=[plan.pk]), text)
        return text

    request._contact_plan_column = contact_plan
    return contact_plan


@admin.register(Tier)
class TierWithContactPlanAdmin(TierAdmin):
    """scoring's tier admin with each tier's contact plan beside its service texts, linked to its page."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contact_plan")

    def get_list_display(self, request):
        return [*super().get_list_display(request), _contact_plan_column(request)]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), _contact_plan_column(request)]


# --- tasks ----------------------------------------------------------------------------------------

TASK_FORM_FIELDS = ["customer", "title", "owner", "due_at", "priority", "contact_kind", "note"]


def _task_save(task: Task | None, values: dict, changed: list[str], user) -> Task:
    """The admin's write: a new task through task_create, a change through task_update."""
    if task is None:
        return task_services.task_create(
            customer=values["customer"],
            title=values["title"],
            due_at=values["due_at"],
            owner=values.get("owner"),
            priority=values["priority"],
            contact_kind=values.get("contact_kind") or "",
            note=values.get("note") or "",
            user=user,
        )
    changes = {name: values.get(name) for name in changed if name in task_services.UPDATE_FIELDS}
    return task_services.task_update(task=task, user=user, **changes)


class TaskAdminForm(forms.ModelForm):
    user = None  # the user editing, set per request by TaskAdmin.get_form

    class Meta:
        model = Task
        fields = TASK_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Empty: the customer's account manager.")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        task = Task.objects.get(pk=self.instance.pk) if self.instance.pk else None
        try:
            with transaction.atomic():  # the service's own checks: tried, then rolled back
                _task_save(task, cleaned, self.changed_data, self.user)
                transaction.set_rollback(True)
        except DomainError as exc:
            for name, errors in exc.fields.items():
                self.add_error(name if name in self.fields else None, errors)
            if not exc.fields:
                self.add_error(None, exc.message)
        return cleaned


class TaskStatusFilter(admin.SimpleListFilter):
    """Open tasks by due time, as the workbench buckets them."""

    title = _("due")
    parameter_name = "bucket"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("today", _("Due today")),
            ("week", _("Due within the week")),
            ("later", _("Due later")),
        ]

    def queryset(self, request, queryset):
        if self.value() in selectors.TASK_BUCKETS:
            return queryset.filter(selectors.task_bucket_q(self.value()), status=Task.Status.OPEN)
        return queryset


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    form = TaskAdminForm
    list_display = ["title", "customer_link", "owner", "due_at", "priority", "status", "source"]
    list_filter = ["status", "source", "priority", TaskStatusFilter, ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["customer", "owner"]
    search_fields = ["customer__code", "title"]
    autocomplete_fields = ["customer"]
    show_full_result_count = False
    list_per_page = 50
    ordering = ["due_at", "id"]
    actions = ["complete_selected", "cancel_selected"]
    readonly_fields = [
        "status",
        "source",
        "notice",
        "step",
        "completion_note",
        "activity",
        "created_by",
        "created_at",
        "completed_at",
        "completed_by",
        "updated_at",
    ]

    def get_queryset(self, request):
        return rows_visible_to(request.user, super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("customer")  # a task stays with its customer
            if obj.status != Task.Status.OPEN:
                readonly += [name for name in TASK_FORM_FIELDS if name not in readonly]  # closed: history
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            kwargs["queryset"] = customers_visible_to(request.user, Customer.objects.all())
        elif db_field.name == "owner":
            users = get_user_model().objects.filter(is_active=True).order_by("username")
            # An account manager plans only for themself (the service's rule); others pick anyone active.
            kwargs["queryset"] = users if user_sees_all_customers(request.user) else users.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # a task is cancelled, not deleted: it stays in the customer's timeline

    @admin.display(description=_("customer"), ordering="customer__code")
    def customer_link(self, obj):
        return _customer_link(obj)

    def save_model(self, request, obj, form, change):
        if change:
            _task_save(obj, form.cleaned_data, form.changed_data, request.user)
            return
        stored = _task_save(None, form.cleaned_data, form.changed_data, request.user)
        obj.pk, obj.owner, obj.created_at, obj.updated_at = (
            stored.pk,
            stored.owner,
            stored.created_at,
            stored.updated_at,
        )
        obj._state.adding = False

    def _close_selected(self, request, queryset, close, done_message):
        closed = skipped = 0
        for task in queryset.filter(status=Task.Status.OPEN).select_related("customer"):
            try:
                close(task=task, user=request.user)
                closed += 1
            except DomainError as exc:
                skipped += 1
                messages.error(request, f"{task}: {exc.message}")
        skipped += queryset.exclude(status=Task.Status.OPEN).count()
        if closed:
            messages.success(request, done_message(closed))
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(count)d task was not open and was left as it is.",
                    "%(count)d tasks were not open and were left as they are.",
                    skipped,
                )
                % {"count": skipped},
            )

    @admin.action(description=_("Complete the selected tasks (contact tasks record their activity, dated now)"))
    def complete_selected(self, request, queryset):
        self._close_selected(
            request,
            queryset,
            task_services.task_complete,
            lambda n: ngettext("%(count)d task completed.", "%(count)d tasks completed.", n) % {"count": n},
        )

    @admin.action(description=_("Cancel the selected tasks"))
    def cancel_selected(self, request, queryset):
        self._close_selected(
            request,
            queryset,
            task_services.task_cancel,
            lambda n: ngettext("%(count)d task cancelled.", "%(count)d tasks cancelled.", n) % {"count": n},
        )


# --- contact statuses and letters sent (read-only) ----------------------------------------------


class ContactDueFilter(admin.SimpleListFilter):
    title = _("next contact")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("due", _("Due within 7 days, overdue included")),
            ("later", _("Due later")),
            ("none", _("Nothing due")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value in selectors.CONTACT_DUE_STATES:
            return selectors.contact_due_state_filter(queryset, value)
        if value == "later":
            return queryset.exclude(pk__in=selectors.contact_due_state_filter(queryset, "due").values("pk")).filter(
                due_on__isnull=False
            )
        if value == "none":
            return queryset.filter(due_on__isnull=True)
        return queryset


@admin.register(ContactStatus)
class ContactStatusAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Kept by the service side after every activity, run, override and plan change: looked at, never edited."""

    list_display = ["customer_link", "tier", "last_contact_on", "tier_since", "due_on", "days_overdue"]
    list_filter = [ContactDueFilter, "tier"]
    list_select_related = ["customer", "tier"]
    search_fields = ["customer__code", "customer__name"]
    show_full_result_count = False
    list_per_page = 50
    ordering = ["due_on", "customer_id"]

    def get_queryset(self, request):
        return rows_visible_to(request.user, super().get_queryset(request))

    @admin.display(description=_("customer"), ordering="customer__code")
    def customer_link(self, obj):
        return _customer_link(obj)

    @admin.display(description=_("days overdue"))
    def days_overdue(self, obj):
        days = selectors.days_overdue(obj.due_on, local_today())
        return "-" if days is None else days


@admin.register(LetterDispatch)
class LetterDispatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sent_at", "customer_link", "method", "email_to", "language", "sent_by"]
    list_filter = ["method", "language"]
    list_select_related = ["customer", "sent_by"]
    search_fields = ["customer__code", "customer__name", "email_to"]
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request):
        return rows_visible_to(request.user, super().get_queryset(request))

    @admin.display(description=_("customer"), ordering="customer__code")
    def customer_link(self, obj):
        return _customer_link(obj)
