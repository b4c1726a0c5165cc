"""Pages for account managers. Thin: scope through the mixin, read through selectors, write through services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView, View

from core.access import sensitive_value_for, user_sees_all_customers, user_sees_sensitive_fields
from core.clock import local_today
from core.exceptions import DomainError
from crm import services as crm_services
from crm.columns import CUSTOMER_FILE_COLUMNS
from crm.selectors import (
    CUSTOMER_DEFAULT_SORT,
    customer_activity,
    customer_list,
    customer_record_changes,
    customers_flagged,
    customers_flagged_count,
    tier_runs_of,
)
from scoring import selectors as scoring_selectors
from scoring.metrics import metric_label
from scoring.models import ScoreRule, Tier
from tiering import letters
from tiering import selectors as tiering_selectors
from tiering import services as tiering_services
from tiering.models import TierChange, TierRun
from web import exports
from web.flags import flag_label
from web.forms import (
    SORT_CHOICES,
    CustomerEditForm,
    CustomerListFilter,
    NoticeAcknowledgeForm,
    RunStartForm,
    SortForm,
)
from web.mixins import CustomerScopeMixin, WebPageMixin
from web.notices import NoticeFilter, kind_choices, notice_rows, state_choices, warning_choices
from web.workbench import contact_view, customer_workbench, dashboard_cards

PAGE_SIZE = 25


def grouped(value, places: int = 0, *, trim: bool = False) -> str:
    """1234567.5 -> '1,234,568': figures read the same in both languages (Django's zh locale groups nothing).
    `trim` drops the decimals of whole numbers (22.00 -> 22)."""
    if value is None:
        return "—"
    text = f"{float(value):,.{places}f}"
    return text.rstrip("0").rstrip(".") if trim and places and float(value).is_integer() else text


def duration_label(minutes: int) -> str:
    """15 -> '15 minutes', 120 -> '2 hours', 2880 -> '48 hours'."""
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


# --- dashboard ------------------------------------------------------------------------------------


class DashboardView(CustomerScopeMixin, TemplateView):
    template_name = "web/dashboard.html"
    section = "dashboard"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customers = self.visible_customers()
        tier_rows, untiered, total = scoring_selectors.customer_tier_distribution(customers)
        run = tiering_selectors.latest_run()
        run_changes = tiering_selectors.tier_changes_by_direction(customers, run)
        context.update(
            tier_rows=tier_rows,
            untiered=untiered,
            customer_total=total,
            tier_chart={
                "labels": [row["tier"].name for row in tier_rows],
                "colours": [row["tier"].colour for row in tier_rows],
                "actual": [row["share"] for row in tier_rows],
                "target": [row["target_share"] for row in tier_rows],
                "actualLabel": _("Actual share (%)"),
                "targetLabel": _("Target share (%)"),
            },
            latest_run=run,
            run_upgrades=run_changes.get(TierChange.Direction.UPGRADE, 0),
            run_downgrades=run_changes.get(TierChange.Direction.DOWNGRADE, 0),
            open_notices=list(self.visible_notices().filter(acknowledged_at__isnull=True)[:6]),
            flagged=[(c, [flag_label(f) for f in c.flags]) for c in customers_flagged(customers)],
            flagged_total=customers_flagged_count(customers),
            **dashboard_cards(self.request.user),
        )
        return context


# --- customers ------------------------------------------------------------------------------------


def customer_labels() -> dict[str, str]:
    """Field labels of the customer pages: the headers of exports and imports (crm.columns), so a
    page, its export and the import read the same in either language."""
    return {column.name: column.label for column in CUSTOMER_FILE_COLUMNS}


def spend_label(customer) -> str | None:
    """The stored 12-month spend, grouped; None for a customer whose figures were never computed."""
    return grouped(customer.spend_12m) if exports.figure_known(customer.spend_12m, customer.figures_as_of) else None


class CustomerListMixin(CustomerScopeMixin):
    """The filtered, sorted customer list, shared by the page and its exports so they always agree."""

    def filtered_customers(self):
        self.filterset = CustomerListFilter(
            self.request.GET,
            queryset=self.visible_customers(),
            show_account_manager=user_sees_all_customers(self.request.user),
        )
        self.sort = SortForm(self.request.GET).cleaned_sort()
        customers = self.filterset.qs if self.filterset.is_valid() else self.visible_customers().none()
        return customer_list(customers, sort=self.sort)


class CustomerListView(CustomerListMixin, TemplateView):
    template_name = "web/customer_list.html"
    section = "customers"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customers = self.filtered_customers().prefetch_related("contact_status")
        page = Paginator(customers, PAGE_SIZE).get_page(self.request.GET.get("page"))
        runs = tier_runs_of(customer.pk for customer in page.object_list)
        today = local_today()
        sees_all = user_sees_all_customers(self.request.user)
        active_filters = [
            name for name, value in self.filterset.form.data.items() if name in self.filterset.filters and value
        ]
        context.update(
            filter_form=self.filterset.form,
            filter_errors=self.filterset.errors,
            page_obj=page,
            rows=[
                {
                    "customer": customer,
                    "flags": [flag_label(f) for f in customer.flags],
                    "spend": spend_label(customer),
                    "tier_run": runs.get(customer.pk),
                    "contact": contact_view(customer, today),
                }
                for customer in page.object_list
            ],
            labels=customer_labels(),
            sort=self.sort,
            sort_choices=SORT_CHOICES,
            sort_columns=_sort_columns(self.sort),
            default_sort=CUSTOMER_DEFAULT_SORT,
            has_filters=bool(active_filters),
            filter_count=len(active_filters),
            show_account_manager=sees_all,
        )
        return context


class CustomerExportView(CustomerListMixin, View):
    """The list as it is filtered on screen, as CSV or XLSX, with the same columns."""

    def get(self, request, fmt: str):
        customers = self.filtered_customers()
        if not self.filterset.is_valid():
            messages.error(
                request,
                _("Fix the filters before exporting: %(errors)s") % {"errors": _errors_text(self.filterset.errors)},
            )
            return redirect(reverse("web:customer-list") + "?" + request.GET.urlencode())
        columns = exports.customer_columns(with_account_manager=user_sees_all_customers(request.user))
        if fmt == "csv":
            return exports.customers_csv_response(customers, columns)
        return exports.customers_xlsx_response(customers, columns)


def _sort_columns(current: str) -> dict[str, dict]:
    """Per sortable column: the sort its header link applies next, and its aria-sort state now."""
    columns = {}
    for field, first in (
        ("score", "-score"),
        ("spend_12m", "-spend_12m"),
        ("name", "name"),
        ("last_order_at", "-last_order_at"),
    ):
        if current.lstrip("-") == field:
            state = "descending" if current.startswith("-") else "ascending"
            following = field if current.startswith("-") else f"-{field}"
        else:
            state, following = "none", first
        columns[field] = {"next": following, "state": state}
    return columns


def _errors_text(errors) -> str:
    return "; ".join(f"{field}: {' '.join(str(m) for m in field_errors)}" for field, field_errors in errors.items())


def user_may_edit_customers(user) -> bool:
    return user.has_perm("crm.change_customer")


class CustomerDetailView(CustomerScopeMixin, TemplateView):
    template_name = "web/customer_detail.html"
    section = "customers"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        customer = self.get_customer(kwargs["code"])
        as_of = local_today()
        edit_form = kwargs.get("edit_form")
        if edit_form is None and user_may_edit_customers(user):
            edit_form = CustomerEditForm(customer=customer, governed=crm_services.user_may_change_scoring_inputs(user))
        try:
            live = scoring_selectors.customer_score(customer, as_of)
        except LookupError:
            live = None  # no scoring profile applies: the page says so instead of failing
        override = tiering_selectors.override_for(customer, as_of=as_of)
        history = tiering_selectors.assignments_latest_per_period(customer).select_related("tier", "run")
        assignments = list(history[:40])
        assignments.reverse()  # oldest first for the chart: one point per period, a forced rerun's
        last_change = tiering_selectors.tier_changes_for(customer).first()
        sees_sensitive = user_sees_sensitive_fields(user)
        context.update(
            customer=customer,
            live=live,
            as_of=as_of,
            breakdown=_breakdown(live) if live else None,
            override=override,
            history=assignments,
            history_chart={
                "labels": [a.run.period for a in assignments],
                "scores": [float(a.score) for a in assignments],
                "tiers": [a.tier.name for a in assignments],
                "colours": [a.tier.colour for a in assignments],
                "scoreLabel": _("Score"),
                "tierLabel": _("Tier"),
            },
            last_change=last_change,
            show_letter=bool(last_change and last_change.direction == TierChange.Direction.DOWNGRADE),
            tax_id=sensitive_value_for(user, customer.tax_id),
            bank_account=sensitive_value_for(user, customer.bank_account),
            sensitive_masked=not sees_sensitive,
            first_response=duration_label(customer.tier.first_response_minutes) if customer.tier else "",
            flags=[flag_label(f) for f in customer.flags],
            spend_12m=spend_label(customer),
            tier_run=tier_runs_of([customer.pk]).get(customer.pk),
            labels=customer_labels(),
            record_changes=customer_record_changes(customer),
            edit_form=edit_form,
            **_activity_with_amounts(customer),
            **customer_workbench(self.request, customer, last_change=last_change),
        )
        return context


class CustomerUpdateView(CustomerDetailView):
    """The customer page's edit form, posted: saved through crm.services.customer_update, whose
    refusals (a scoring input changed by someone other than a tier administrator, a potential
    rating without a reason) come back as errors on the page."""

    http_method_names = ["post"]

    def post(self, request, code: str):
        if not user_may_edit_customers(request.user):
            raise PermissionDenied
        customer = self.get_customer(code)
        form = CustomerEditForm(
            request.POST, customer=customer, governed=crm_services.user_may_change_scoring_inputs(request.user)
        )
        if form.is_valid():
            try:
                crm_services.customer_update(
                    customer=customer, changed_by=request.user, reason=form.cleaned_data["reason"], **form.changes()
                )
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("The customer record was saved."))
                return redirect(reverse("web:customer-detail", args=[code]) + "#record-changes")
        return self.render_to_response(self.get_context_data(code=code, edit_form=form), status=400)


def _activity_with_amounts(customer) -> dict:
    activity = customer_activity(customer)
    activity["orders"] = [(order, grouped(order.amount, 2)) for order in activity["orders"]]
    return activity


def _breakdown(live) -> dict:
    """Per category (in the profile's order) the rules with points earned and possible, plus chart data."""
    categories: dict[str, dict] = {}
    category_labels = dict(ScoreRule.Category.choices)
    for rule in live.result.rules:
        group = categories.setdefault(
            rule.category,
            {"label": str(category_labels.get(rule.category, rule.category)), "rules": [], "points": 0.0, "max": 0.0},
        )
        group["rules"].append(
            {
                "label": metric_label(rule.metric),
                "value": None if rule.value is None else grouped(rule.value, 2, trim=True),
                "points": rule.points,
                "max": rule.max_points,
            }
        )
        group["points"] += rule.points
        group["max"] += rule.max_points
    rules = [rule for group in categories.values() for rule in group["rules"]]
    return {
        "categories": list(categories.values()),
        "chart": {
            "labels": [rule["label"] for rule in rules],
            "earned": [rule["points"] for rule in rules],
            "possible": [rule["max"] for rule in rules],
            "earnedLabel": _("Points earned"),
            "possibleLabel": _("Points possible"),
        },
    }


class CustomerLetterView(CustomerScopeMixin, View):
    """The printable downgrade letter, in the customer's language, for their latest downgrade."""

    def get(self, request, code: str):
        customer = self.get_customer(code)
        try:
            return HttpResponse(letters.downgrade_letter_html(customer))
        except DomainError as error:
            raise Http404(error.message) from error


# --- notices ----------------------------------------------------------------------------------------


class NoticeListView(CustomerScopeMixin, TemplateView):
    """Notices with their run or period, which warning each is, and the next steps it offers;
    filtered by kind, warning and state (web.notices, shared with "acknowledge all that match")."""

    template_name = "web/notice_list.html"
    section = "notices"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        notice_filter = NoticeFilter.from_params(self.request.GET)
        notices = notice_filter.apply(
            self.visible_notices().select_related("customer__tier", "change__from_tier", "change__to_tier")
        )
        page = Paginator(notices.order_by("-created_at", "-id"), PAGE_SIZE).get_page(self.request.GET.get("page"))
        open_matching = notices.filter(acknowledged_at__isnull=True).count() if notice_filter.active else None
        context.update(
            page_obj=page,
            rows=notice_rows(list(page.object_list)),
            notice_filter=notice_filter,
            filter_params=notice_filter.params(),
            open_matching=open_matching,
            kinds=kind_choices(),
            warnings=warning_choices(),
            states=state_choices(),
        )
        return context


class NoticeAcknowledgeView(CustomerScopeMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        notices = self.visible_notices()
        form = NoticeAcknowledgeForm(request.POST, notices=notices)
        if form.is_valid():
            ids = [notice.pk for notice in form.cleaned_data["notice"]]
            try:
                count = tiering_services.notices_acknowledge(user=request.user, notice_ids=ids)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    ngettext("%(count)d notice acknowledged.", "%(count)d notices acknowledged.", count)
                    % {"count": count},
                )
        else:
            messages.error(request, " ".join(form.errors["notice"]))
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("web:notice-list")
        return redirect(target)


# --- tier runs --------------------------------------------------------------------------------------


def user_may_start_runs(user) -> bool:
    return user.has_perm("tiering.add_tierrun")


def user_may_view_run_figures(user) -> bool:
    """A run's figures are company-wide (customers scored, counts per tier, upgrades, downgrades,
    progress, error): they need the permission GET /api/v1/tier-runs/{id}/ checks, which the
    account managers' group does not hold. Others see each run's period, status and dates only."""
    return user.has_perm("tiering.view_tierrun")


class RunListView(WebPageMixin, TemplateView):
    template_name = "web/run_list.html"
    section = "runs"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = Paginator(tiering_selectors.runs_list(), PAGE_SIZE).get_page(self.request.GET.get("page"))
        runs = list(page.object_list)
        sees_figures = user_may_view_run_figures(self.request.user)
        tiers = list(Tier.objects.order_by("rank")) if sees_figures else []
        context.update(
            page_obj=page,
            sees_run_figures=sees_figures,
            tiers=tiers,
            runs=[(run, [(tier, (run.tier_counts or {}).get(tier.code, 0)) for tier in tiers]) for run in runs],
            may_start=user_may_start_runs(self.request.user),
            start_form=kwargs.get("start_form") or RunStartForm(initial={"as_of": local_today()}),
            active=[run for run in runs if run.status in (TierRun.Status.PENDING, TierRun.Status.RUNNING)],
        )
        return context


class RunStartView(WebPageMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        if not user_may_start_runs(request.user):
            raise PermissionDenied
        form = RunStartForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                messages.error(request, f"{form.fields[field].label}: {' '.join(errors)}")
            return redirect("web:run-list")
        try:
            run = tiering_services.tier_run_start(
                as_of=form.cleaned_data["as_of"],
                trigger=TierRun.Trigger.MANUAL,
                started_by=request.user,
                force=form.cleaned_data["force"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Tier run %(period)s has been queued.") % {"period": run.period})
        return redirect("web:run-list")


class RunProgressView(WebPageMixin, View):
    """Polled by the runs page while a run is going, for those who may see its figures."""

    def get(self, request, pk: int):
        if not user_may_view_run_figures(request.user):
            raise PermissionDenied
        run = get_object_or_404(TierRun, pk=pk)
        return JsonResponse(
            {
                "id": run.pk,
                "status": run.status,
                "statusLabel": str(run.get_status_display()),
                "done": run.done,
                "total": run.total,
                "percent": run.progress_percent,
                "finished": run.status in (TierRun.Status.SUCCEEDED, TierRun.Status.FAILED),
            }
        )
