"""The service-commitment pages: cases (opened from the customer page, its timeline or a complaint
activity; answered; moved on), the results per tier and quarter with their CSV export, and the
blocks the dashboard and the customer page show of them.

Thin like web/views.py: customers and cases come from what the user may see (another manager's
case answers 404), reads go through commitments.selectors and commitments.results, writes through
commitments.services.cases, whose refusals (DomainError.fields) come back beside the fields."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case as Choose
from django.db.models import F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from commitments import results as results_module
from commitments import selectors as case_selectors
from commitments.models import Case, ServiceLevel
from commitments.services import cases as case_services
from core.access import user_sees_all_customers
from core.clock import local_today
from core.exceptions import DomainError
from crm.models import Customer, Interaction
from scoring.models import Tier
from web.case_forms import (
    BREACHED_NO,
    BREACHED_YES,
    SCOPE_ALL,
    SCOPE_MINE,
    CaseFilterForm,
    CaseOpenForm,
    CaseReplyForm,
    CaseStatusForm,
    ResultsForm,
)
from web.mixins import CustomerScopeMixin, WebPageMixin

PAGE_SIZE = 25
CUSTOMER_CASES_SHOWN = 6
NO_TIER_COLOUR = "#9ca3af"


# --- the first-response clock as the pages show it ----------------------------------------------


def span_text(seconds: float) -> str:
    """A duration as "2 d 03:04:05" / "03:04:05": reads the same in both languages."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return (_("%(days)d d") % {"days": days} + " " + clock) if days else clock


def minutes_text(minutes: float | None) -> str:
    """15 -> "15 min", 90 -> "1 h 30 min", 1440 -> "24 h"."""
    if minutes is None:
        return "—"
    minutes = round(minutes)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": rest}
    if not rest:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}


@dataclass(frozen=True)
class ResponseClock:
    """Where a case stands against its first-response deadline."""

    running: bool  # no first response yet: the countdown runs
    overdue: bool  # past the deadline unanswered, or answered after it
    seconds_left: int  # to the deadline (negative: past it); only while running
    text: str

    @property
    def state(self) -> str:
        if self.running:
            return "overdue" if self.overdue else "running"
        return "late" if self.overdue else "met"


def response_clock(case: Case, now: datetime.datetime) -> ResponseClock:
    if case.first_response_at is None:
        left = int((case.first_response_due_at - now).total_seconds())
        if not case.is_open:
            return ResponseClock(False, left < 0, left, _("Closed without a response"))
        if left < 0:
            return ResponseClock(True, True, left, _("Overdue by %(time)s") % {"time": span_text(left)})
        return ResponseClock(True, False, left, _("%(time)s left") % {"time": span_text(left)})
    took = minutes_text(None if case.first_response_seconds is None else case.first_response_seconds / 60)
    if case.met_first_response:
        return ResponseClock(False, False, 0, _("Answered in %(time)s, in time") % {"time": took})
    return ResponseClock(False, True, 0, _("Answered in %(time)s, late") % {"time": took})


def countdown_labels() -> dict[str, str]:
    """What app.js writes into a live countdown (it replaces %(time)s and %(days)d)."""
    return {
        "left": _("%(time)s left"),
        "overdue": _("Overdue by %(time)s"),
        "days": _("%(days)d d"),
    }


def missed_deadline(now: datetime.datetime) -> Q:
    """Cases whose first response came late, or is still missing past the deadline (whether or
    not the sweep has stamped the breach yet)."""
    return (
        Q(breached_at__isnull=False)
        | Q(first_response_at__gt=F("first_response_due_at"))
        | Q(first_response_at__isnull=True, first_response_due_at__lte=now)
    )


# --- permissions ------------------------------------------------------------------------------------


class CasePageMixin(PermissionRequiredMixin, CustomerScopeMixin):
    """Signed in (else the login page), holding the page's permission (else 403); cases and
    customers only among those the user sees (else 404)."""

    section = "cases"
    permission_required = "commitments.view_case"

    def visible_case(self, pk: int) -> Case:
        cases = case_selectors.cases_visible_to(self.request.user).select_related(
            "customer", "customer__tier", "owner", "tier", "created_by", "activity"
        )
        return get_object_or_404(cases, pk=pk)


# --- the cases list ---------------------------------------------------------------------------------


def cases_filtered(user, data: dict, *, now: datetime.datetime) -> QuerySet[Case]:
    """The cases the user sees, filtered, the nearest running deadline first, then the newest."""
    cases = case_selectors.cases_visible_to(user)
    if data.get("scope") == SCOPE_MINE:
        cases = cases.filter(owner=user)
    status = data.get("status")
    if status == "active":
        cases = cases.filter(status__in=case_selectors.OPEN)
    elif status:
        cases = cases.filter(status=status)
    if data.get("kind"):
        cases = cases.filter(kind=data["kind"])
    if data.get("breached") == BREACHED_YES:
        cases = cases.filter(missed_deadline(now))
    elif data.get("breached") == BREACHED_NO:
        cases = cases.exclude(missed_deadline(now))
    if data.get("customer"):
        cases = cases.filter(customer__code=data["customer"])
    # Cases whose clock still runs by their deadline (overdue ones first), then the rest, newest first.
    running = Q(first_response_at__isnull=True, status__in=case_selectors.OPEN)
    return (
        cases.select_related("customer", "owner", "tier")
        .annotate(deadline=Choose(When(running, then=F("first_response_due_at")), default=None))
        .order_by(F("deadline").asc(nulls_last=True), "-opened_at", "-pk")
    )


class CaseListView(CasePageMixin, TemplateView):
    template_name = "web/cases/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        sees_all = user_sees_all_customers(user)
        params = self.request.GET.copy()
        params.setdefault("scope", SCOPE_ALL if sees_all else SCOPE_MINE)
        form = CaseFilterForm(params)
        now = timezone.now()
        if form.is_valid():
            data = {**form.cleaned_data, "customer": self.request.GET.get("customer", "").strip()}
            cases = cases_filtered(user, data, now=now)
        else:
            cases = case_selectors.cases_visible_to(user).none()
        page = Paginator(cases, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            filter_form=form,
            page_obj=page,
            rows=[(case, response_clock(case, now)) for case in page.object_list],
            show_owner=sees_all,
            customer_code=self.request.GET.get("customer", "").strip(),
            countdown=countdown_labels(),
        )
        return context


# --- opening a case ---------------------------------------------------------------------------------


def _complaint_of(customer: Customer, activity_id) -> Interaction | None:
    if activity_id in (None, ""):
        return None
    try:
        pk = int(activity_id)
    except (TypeError, ValueError):
        return None
    return Interaction.objects.filter(customer=customer, pk=pk).first()


class CaseOpenView(CasePageMixin, TemplateView):
    """GET: the form (from a complaint activity: prefilled, linked to it so it is counted once);
    POST: case_open."""

    template_name = "web/cases/open.html"
    permission_required = ("commitments.view_case", "commitments.add_case")

    def get(self, request, code: str):
        customer = self.get_customer(code)
        activity_id = request.GET.get("activity")
        initial = {}
        if activity_id:
            activity = _complaint_of(customer, activity_id)
            if activity is None:
                raise Http404(_("No such activity of this customer."))
            existing = Case.objects.filter(activity=activity).only("pk").first()
            if existing is not None:
                messages.info(request, _("This complaint already has a case."))
                return redirect("web:case-detail", pk=existing.pk)
            first_line = (activity.note or "").strip().splitlines()[0] if (activity.note or "").strip() else ""
            initial = {
                "kind": Case.Kind.COMPLAINT,
                "subject": (first_line or activity.outcome or _("Complaint"))[:200],
                "description": activity.note,
                "activity": activity.pk,
            }
        form = CaseOpenForm(initial=initial)
        return self.render_to_response(self.get_context_data(customer=customer, form=form))

    def post(self, request, code: str):
        customer = self.get_customer(code)
        form = CaseOpenForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            activity = _complaint_of(customer, data["activity"])
            if data["activity"] is not None and activity is None:
                form.add_error("activity", _("Unknown activity %(id)s.") % {"id": data["activity"]})
            else:
                try:
                    case = case_services.case_open(
                        customer=customer,
                        kind=data["kind"],
                        subject=data["subject"],
                        description=data["description"],
                        severity=data["severity"],
                        channel=data["channel"],
                        user=request.user,
                        activity=activity,
                    )
                except DomainError as error:
                    form.add_domain_error(error)
                else:
                    messages.success(request, _("Case #%(id)s opened.") % {"id": case.pk})
                    return redirect("web:case-detail", pk=case.pk)
        return self.render_to_response(self.get_context_data(customer=customer, form=form), status=400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = kwargs["customer"]
        level = customer_service_level(customer)
        context.update(service_level=level)
        return context


def customer_service_level(customer: Customer) -> dict:
    """What a case opened now would promise: the tier's first-response time, its clock, the deadline."""
    minutes, clock, due, _reminder = case_services.service_clock(customer.tier, timezone.now())
    return {
        "tier": customer.tier,
        "minutes": minutes_text(minutes),
        "clock": ServiceLevel.Clock(clock).label,
        "due": due,
    }


# --- one case ---------------------------------------------------------------------------------------


def case_actions(case: Case) -> list[dict]:
    """The moves the page offers from the case's status, with the fields each needs. Closing an
    open or in-progress case resolves it first (one step for the person, two for the clock)."""
    following = case_services.TRANSITIONS[case.status]
    actions = []
    if Case.Status.IN_PROGRESS in following:
        label = _("Reopen") if case.status == Case.Status.RESOLVED else _("Start work (in progress)")
        actions.append({"status": Case.Status.IN_PROGRESS, "label": label, "resolution": False, "grade": False})
    if Case.Status.RESOLVED in following:
        actions.append({"status": Case.Status.RESOLVED, "label": _("Resolve…"), "resolution": True, "grade": False})
    if Case.Status.CLOSED in following or Case.Status.RESOLVED in following:
        actions.append(
            {
                "status": Case.Status.CLOSED,
                "label": _("Close…"),
                # A resolved case has its resolution already; otherwise closing asks for one.
                "resolution": case.status != Case.Status.RESOLVED,
                "grade": True,
            }
        )
    return actions


class CaseDetailView(CasePageMixin, TemplateView):
    template_name = "web/cases/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        case = kwargs.get("case") or self.visible_case(kwargs["pk"])
        now = timezone.now()
        status_form = kwargs.get("status_form")
        context.update(
            case=case,
            replies=list(case.replies.select_related("author")),
            clock=response_clock(case, now),
            countdown=countdown_labels(),
            reply_form=kwargs.get("reply_form") or CaseReplyForm(auto_id="reply_%s"),
            status_form=status_form,
            failed_status=status_form.data.get("status") if status_form is not None else "",
            actions=case_actions(case),
            satisfaction_choices=Case.Satisfaction.choices,
            may_reply=user.has_perm("commitments.add_casereply") and case.status != Case.Status.CLOSED,
            may_change=user.has_perm("commitments.change_case"),
            clock_label=ServiceLevel.Clock(case.clock).label,
            response_target=minutes_text(case.response_minutes),
        )
        return context


class CaseRespondView(CasePageMixin, View):
    http_method_names = ["post"]
    permission_required = ("commitments.view_case", "commitments.add_casereply")

    def post(self, request, pk: int):
        case = self.visible_case(pk)
        form = CaseReplyForm(request.POST, auto_id="reply_%s")
        if form.is_valid():
            try:
                case_services.case_respond(case=case, user=request.user, body=form.cleaned_data["body"])
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Reply saved."))
                return redirect(reverse("web:case-detail", args=[case.pk]) + "#replies")
        view = CaseDetailView(request=request, kwargs={"pk": pk})
        context = view.get_context_data(pk=pk, case=case, reply_form=form)
        return view.render_to_response(context, status=400)


class CaseStatusView(CasePageMixin, View):
    http_method_names = ["post"]
    permission_required = ("commitments.view_case", "commitments.change_case")

    def post(self, request, pk: int):
        case = self.visible_case(pk)
        form = CaseStatusForm(request.POST, auto_id="status_%s")
        if form.is_valid():
            data = form.cleaned_data
            try:
                case_moved_on(case, user=request.user, **data)
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(
                    request, _("The case is now %(status)s.") % {"status": Case.Status(data["status"]).label}
                )
                return redirect("web:case-detail", pk=case.pk)
        case = self.visible_case(pk)  # as stored: a refused move changed nothing
        view = CaseDetailView(request=request, kwargs={"pk": pk})
        context = view.get_context_data(pk=pk, case=case, status_form=form)
        return view.render_to_response(context, status=400)


@transaction.atomic
def case_moved_on(case: Case, *, user, status: str, resolution: str, satisfaction: str) -> Case:
    """Closing a case that is not resolved yet resolves it first, in the same transaction: a
    refused close (no resolution, say) leaves the case as it was."""
    if status == Case.Status.CLOSED and case.status in (Case.Status.OPEN, Case.Status.IN_PROGRESS):
        case = case_services.case_transition(case=case, status=Case.Status.RESOLVED, user=user, resolution=resolution)
    return case_services.case_transition(
        case=case, status=status, user=user, resolution=resolution, satisfaction=satisfaction
    )


# --- blocks of other pages --------------------------------------------------------------------------


def dashboard_case_cards(user) -> dict:
    """Open cases, breaches this month and first-response compliance per tier at opening."""
    rows = case_selectors.case_cards(user)
    tiers = Tier.objects.in_bulk([row["tier_id"] for row in rows if row["tier_id"] is not None])
    cards = [{**row, "tier": tiers.get(row["tier_id"])} for row in rows]
    return {
        "case_cards": cards,
        "case_open_total": sum(row["open"] for row in rows),
        "case_breach_total": sum(row["breaches"] for row in rows),
    }


def customer_cases(customer: Customer) -> dict:
    """The customer's cases, open ones first (the customer is one the user sees)."""
    now = timezone.now()
    cases = list(
        Case.objects.filter(customer=customer)
        .select_related("owner", "tier")
        .annotate(
            active=Choose(
                When(status__in=case_selectors.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("active", "-opened_at", "-pk")[: CUSTOMER_CASES_SHOWN + 1]
    )
    return {
        "customer": customer,
        "customer_case_rows": [(case, response_clock(case, now)) for case in cases[:CUSTOMER_CASES_SHOWN]],
        "customer_cases_more": len(cases) > CUSTOMER_CASES_SHOWN,
    }


# --- results ----------------------------------------------------------------------------------------


def value_text(unit: str, value: float | None) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "change":
        return f"{value:+.1f}%"
    if unit == "amount":
        return f"¥{value:,.2f}"
    if unit == "minutes":
        return minutes_text(value) if value >= 1 else _("%(minutes)s min") % {"minutes": f"{value:.1f}"}
    return f"{value:,}"


def reference_text(unit: str, value: float | None) -> str:
    if value is None:
        return ""
    return minutes_text(value) if unit == "minutes" else value_text("amount" if unit == "change" else unit, value)


def _other_language() -> str:
    return "en" if (translation.get_language() or "").startswith("zh") else "zh-hans"


def figure_views(results: results_module.Results) -> list[dict]:
    """Per figure: its label and definition (in the page's language and the other one), a row per
    tier with each quarter's value and the counts behind it, and a small trend chart's data."""
    colours = dict(Tier.objects.values_list("pk", "colour"))
    other = _other_language()
    views = []
    for figure in results.figures:
        rows, datasets = [], []
        for tier in results.tiers:
            cells = [(quarter, results.cell(figure.key, quarter, tier.id)) for quarter in results.quarters]
            if not any(cell is not None for _quarter, cell in cells):
                continue
            colour = colours.get(tier.id, NO_TIER_COLOUR)
            rows.append(
                {
                    "tier": tier,
                    "colour": colour,
                    "cells": [
                        {
                            "quarter": quarter,
                            "cell": cell,
                            "value": value_text(figure.unit, cell.value) if cell else "—",
                            "reference": reference_text(figure.unit, cell.reference) if cell else "",
                        }
                        for quarter, cell in cells
                    ],
                }
            )
            datasets.append({"label": tier.name, "colour": colour, "data": results.series(figure.key, tier.id)})
        with translation.override(other):
            other_label, other_definition = str(figure.label), str(figure.definition)
        views.append(
            {
                "figure": figure,
                "other_language": other,
                "other_label": other_label if other_label != str(figure.label) else "",
                "other_definition": other_definition if other_definition != str(figure.definition) else "",
                "rows": rows,
                "data_id": f"results-chart-{figure.key}-data",
                "chart": {
                    "id": f"results-chart-{figure.key}",
                    "unit": figure.unit,
                    "labels": [quarter.label for quarter in results.quarters],
                    "datasets": datasets,
                },
            }
        )
    return views


def results_quarters(request) -> tuple[ResultsForm, list | None]:
    """The quarters asked for, or the form with the refusal beside its field."""
    form = ResultsForm(request.GET)
    if not form.is_valid():
        return form, None
    try:
        return form, results_module.quarters_parse(form.cleaned_data["quarters"], today=local_today())
    except DomainError as error:
        for message in error.fields.get("quarters", [error.message]):
            form.add_error("quarters", str(message))
        return form, None


class ResultsView(PermissionRequiredMixin, WebPageMixin, TemplateView):
    template_name = "web/results.html"
    section = "results"
    permission_required = "commitments.view_results"

    def get(self, request, *args, **kwargs):
        form, quarters = results_quarters(request)
        results = results_module.results_cached(request.user, quarters) if quarters else None
        context = self.get_context_data(
            form=form,
            results=results,
            figures=figure_views(results) if results else [],
            export_query=request.GET.urlencode(),
        )
        return self.render_to_response(context, status=200 if results else 400)


class ResultsExportView(PermissionRequiredMixin, WebPageMixin, View):
    """The same figures as CSV (texts in the page's language); bad quarters go back to the page,
    where the error stands beside the field."""

    permission_required = "commitments.view_results"

    def get(self, request):
        form, quarters = results_quarters(request)
        if not quarters:
            return redirect(reverse("web:results") + "?" + request.GET.urlencode())
        results = results_module.results_cached(request.user, quarters)
        response = HttpResponse(results.csv_text(), content_type="text/csv; charset=utf-8")
        name = f"results-{quarters[0].label}-{quarters[-1].label}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
