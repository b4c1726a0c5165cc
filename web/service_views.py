"""The account managers' workbench: activities, follow-up tasks, contacts due, prospects, a notice's
next steps, letters sent. Thin like web/views.py: scope through the mixins, read through
service.selectors, write through the services, whose refusals come back beside the fields.

Forms that open in place (the customer page's "log a call") are posted by app.js with
`X-Inplace: 1`: a refused form comes back as the form alone (status 400) to swap in, a stored one
as {"location": ...} to go to. Without JavaScript the same views answer with whole pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView, View

from core.access import user_sees_all_customers
from core.clock import local_today
from core.exceptions import ConflictError, DomainError
from crm.models import Customer, Interaction
from crm.services import interactions_record
from service import selectors as service_selectors
from service.models import Task
from service.services import letters as letter_services
from service.services import tasks as task_services
from tiering import services as tiering_services
from web.mixins import CustomerScopeMixin, WebPageMixin
from web.notices import NoticeFilter, notice_ids_matching
from web.service_forms import (
    ActivityForm,
    ContactDueFilter,
    ProspectFilter,
    TaskCancelForm,
    TaskCompleteForm,
    TaskForm,
)
from web.workbench import ContactView, user_may_log_activities

PAGE_SIZE = 25
TASKS_PER_SECTION = 50


def next_url(request, default: str) -> str:
    """Where to go after a form: the `next` it carries when it is on this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def in_place(request) -> bool:
    return request.headers.get("X-Inplace") == "1"


def finished(request, url: str):
    """After a stored form: app.js goes to `url` itself; a plain form post is redirected."""
    if in_place(request):
        return JsonResponse({"location": url})
    return redirect(url)


class InPlaceFormMixin:
    """Renders a refused form: the form alone for app.js (`partial_template`), else the whole page."""

    partial_template = ""

    def refused(self, request, **context):
        if in_place(request):
            return TemplateResponse(request, self.partial_template, context, status=400)
        return self.render_to_response(self.get_context_data(**context), status=400)


# --- activities ------------------------------------------------------------------------------------


class ActivityCreateView(InPlaceFormMixin, CustomerScopeMixin, TemplateView):
    """Log what happened with a customer: from the customer page, a notice or a due list."""

    template_name = "web/activity_form.html"
    partial_template = "web/includes/activity_form.html"
    section = "customers"

    def context(self, customer: Customer, form: ActivityForm) -> dict:
        return {
            "customer": customer,
            "activity_form": form,
            "next": next_url(self.request, reverse("web:customer-detail", args=[customer.code])),
        }

    def get(self, request, code: str):
        if not user_may_log_activities(request.user):
            raise PermissionDenied
        customer = self.get_customer(code)
        form = ActivityForm(kind=request.GET.get("kind", ""), auto_id="activity_%s")
        return self.render_to_response(self.get_context_data(**self.context(customer, form)))

    def post(self, request, code: str):
        if not user_may_log_activities(request.user):
            raise PermissionDenied
        customer = self.get_customer(code)
        form = ActivityForm(request.POST, auto_id="activity_%s")
        if form.is_valid():
            try:
                interactions_record(rows=[form.row(customer)], recorded_by=request.user, user=request.user)
            except DomainError as error:
                form.add_domain_error(error)
            else:
                kind = Interaction.Kind(form.cleaned_data["kind"]).label
                messages.success(
                    request, _("%(kind)s logged for %(customer)s.") % {"kind": kind, "customer": customer.name}
                )
                return finished(request, next_url(request, reverse("web:customer-detail", args=[code])))
        return self.refused(request, **self.context(customer, form))


# --- follow-up tasks -------------------------------------------------------------------------------


class TaskCreateView(InPlaceFormMixin, CustomerScopeMixin, TemplateView):
    template_name = "web/task_form.html"
    partial_template = "web/includes/task_form.html"
    section = "tasks"

    def context(self, customer: Customer, form: TaskForm) -> dict:
        return {
            "customer": customer,
            "task_form": form,
            "next": next_url(self.request, reverse("web:customer-detail", args=[customer.code])),
        }

    def get(self, request, code: str):
        customer = self.get_customer(code)
        form = TaskForm(user=request.user, customer=customer, auto_id="task_%s")
        return self.render_to_response(self.get_context_data(**self.context(customer, form)))

    def post(self, request, code: str):
        customer = self.get_customer(code)
        form = TaskForm(request.POST, user=request.user, customer=customer, auto_id="task_%s")
        if form.is_valid():
            try:
                task = task_services.task_create(customer=customer, user=request.user, **form.values())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(
                    request,
                    _("Follow-up planned: %(title)s, due %(due)s.")
                    % {"title": task.title, "due": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")},
                )
                return finished(request, next_url(request, reverse("web:customer-detail", args=[code])))
        return self.refused(request, **self.context(customer, form))


class TaskScopeMixin(WebPageMixin):
    def get_task(self, pk: int) -> Task:
        """A task about a customer this user sees, or 404 (someone else's reads as unknown)."""
        tasks = service_selectors.tasks_visible_to(self.request.user).select_related("customer", "owner")
        return get_object_or_404(tasks, pk=pk)


class TaskListView(WebPageMixin, TemplateView):
    """My tasks: overdue, today, this week, later; a fixed number of queries however many."""

    template_name = "web/tasks.html"
    section = "tasks"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        now = timezone.now()
        counts = service_selectors.task_bucket_counts(user, now=now)
        labels = {
            "overdue": _("Overdue"),
            "today": _("Today"),
            "week": _("This week"),
            "later": _("Later"),
        }
        sections = []
        for bucket in service_selectors.TASK_BUCKETS:
            tasks = list(service_selectors.my_open_tasks(user, bucket=bucket, now=now)[:TASKS_PER_SECTION])
            sections.append(
                {
                    "bucket": bucket,
                    "label": labels[bucket],
                    "count": counts[bucket],
                    "rows": [(task, TaskCompleteForm(task=task, auto_id=f"t{task.pk}_%s")) for task in tasks],
                    "more": max(counts[bucket] - len(tasks), 0),
                }
            )
        context.update(sections=sections, task_counts=counts, now=now)
        return context


class TaskCompleteView(InPlaceFormMixin, TaskScopeMixin, TemplateView):
    template_name = "web/task_complete.html"
    partial_template = "web/includes/task_complete_form.html"
    section = "tasks"

    def context(self, task: Task, form: TaskCompleteForm) -> dict:
        return {"task": task, "form": form, "next": next_url(self.request, reverse("web:task-list"))}

    def get(self, request, pk: int):
        task = self.get_task(pk)
        form = TaskCompleteForm(task=task, auto_id=f"t{task.pk}_%s")
        return self.render_to_response(self.get_context_data(**self.context(task, form)))

    def post(self, request, pk: int):
        task = self.get_task(pk)
        form = TaskCompleteForm(request.POST, task=task, auto_id=f"t{task.pk}_%s")
        if form.is_valid():
            try:
                task = task_services.task_complete(task=task, user=request.user, **form.values())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                if task.activity_id:
                    message = _("Done: %(title)s. The %(kind)s is logged.") % {
                        "title": task.title,
                        "kind": task.get_contact_kind_display().lower(),
                    }
                else:
                    message = _("Done: %(title)s.") % {"title": task.title}
                messages.success(request, message)
                return finished(request, next_url(request, reverse("web:task-list")))
        return self.refused(request, **self.context(task, form))


class TaskCancelView(TaskScopeMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk: int):
        task = self.get_task(pk)
        form = TaskCancelForm(request.POST)
        form.is_valid()
        try:
            task_services.task_cancel(task=task, user=request.user, note=form.cleaned_data.get("note", ""))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Cancelled: %(title)s.") % {"title": task.title})
        return redirect(next_url(request, reverse("web:task-list")))


# --- contacts due and prospects ---------------------------------------------------------------------


class ContactDueView(WebPageMixin, TemplateView):
    """Customers whose next contact is due, most overdue first."""

    template_name = "web/contact_due.html"
    section = "contacts"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = ContactDueFilter(self.request.GET)
        valid = form.is_valid()
        state = form.cleaned_data.get("state", "") if valid else ""
        tier = form.cleaned_data.get("tier") if valid else None
        today = local_today()
        statuses = service_selectors.contact_due(user, state=state, tier_code=tier.code if tier else "", today=today)
        page = Paginator(statuses, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            filter_form=form,
            page_obj=page,
            rows=[
                (status, ContactView(status=status, days_overdue=service_selectors.days_overdue(status.due_on, today)))
                for status in page.object_list
            ],
            has_filters=bool(state or tier),
            show_account_manager=user_sees_all_customers(user),
            may_log_activities=user_may_log_activities(user),
            today=today,
        )
        return context


class ProspectListView(WebPageMixin, TemplateView):
    """Prospects (no deal yet) by pipeline grade, then expected close date."""

    template_name = "web/prospects.html"
    section = "prospects"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = ProspectFilter(self.request.GET)
        grade = form.cleaned_data.get("grade", "") if form.is_valid() else ""
        prospects = service_selectors.prospects_visible_to(user, grade=grade).select_related("industry")
        page = Paginator(prospects, PAGE_SIZE).get_page(self.request.GET.get("page"))
        counts = service_selectors.prospect_grade_counts(user)
        context.update(
            filter_form=form,
            grade=grade,
            page_obj=page,
            grades=[(value, label, counts.get(value, 0)) for value, label in Customer.ProspectGrade.choices],
            total=counts.get("total", 0),
            show_account_manager=user_sees_all_customers(user),
            today=local_today(),
        )
        return context


# --- notices: next steps, acknowledge all that match --------------------------------------------------


class NoticeStepView(WebPageMixin, View):
    """Plan one of a notice's next steps as a task (each step once per notice)."""

    http_method_names = ["post"]

    def post(self, request, pk: int, step: str):
        notice = get_object_or_404(self.visible_notices().select_related("customer", "change"), pk=pk)
        try:
            task = task_services.task_from_notice(notice=notice, step_key=step, user=request.user)
        except ConflictError:
            messages.info(request, _("This next step has already been planned."))
        except DomainError as error:
            messages.error(request, " ".join(str(m) for ms in error.fields.values() for m in ms) or error.message)
        else:
            messages.success(
                request,
                _("Planned for %(customer)s: %(title)s, due %(due)s.")
                % {
                    "customer": notice.customer.name,
                    "title": task.title,
                    "due": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M"),
                },
            )
        return redirect(next_url(request, reverse("web:notice-list")))


class NoticeAcknowledgeMatchingView(WebPageMixin, View):
    """Acknowledge every open notice the filter matches, among those the user sees."""

    http_method_names = ["post"]

    def post(self, request):
        notice_filter = NoticeFilter.from_params(request.POST)
        matching = notice_filter.apply(self.visible_notices())
        count = 0
        for batch in notice_ids_matching(matching):
            count += tiering_services.notices_acknowledge(user=request.user, notice_ids=batch)
        if count:
            messages.success(
                request,
                ngettext("%(count)d notice acknowledged.", "%(count)d notices acknowledged.", count) % {"count": count},
            )
        else:
            messages.info(request, _("No open notice matches this filter; nothing to acknowledge."))
        default = reverse("web:notice-list")
        return redirect(next_url(request, default))


# --- letters ----------------------------------------------------------------------------------------


class LetterSendView(CustomerScopeMixin, View):
    """Record the downgrade letter as printed and sent, or e-mail it to the customer's contact."""

    http_method_names = ["post"]

    def post(self, request, code: str, method: str):
        if method not in ("print", "email"):
            raise Http404
        customer = self.get_customer(code)
        try:
            if method == "email":
                dispatch = letter_services.letter_email(customer=customer, user=request.user)
            else:
                dispatch = letter_services.letter_mark_sent(customer=customer, user=request.user)
        except DomainError as error:
            details = " ".join(str(m) for ms in error.fields.values() for m in ms if isinstance(ms, list))
            messages.error(request, f"{error.message} {details}".strip())
        else:
            if dispatch.method == dispatch.Method.EMAIL:
                messages.success(request, _("The letter was e-mailed to %(email)s.") % {"email": dispatch.email_to})
            else:
                messages.success(request, _("The letter is recorded as sent."))
        return redirect(next_url(request, reverse("web:customer-detail", args=[code]) + "#letter"))
