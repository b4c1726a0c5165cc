"""The workbench pages: activities, follow-ups, contacts due, prospects, a notice's next steps and
letters. Writes go through the services (so their refusals show beside the fields), a manager sees
and changes only what is about their own customers (the outsider gets 404), and the lists run a
fixed number of queries whatever the number of customers."""

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.clock import local_today
from crm.models import Customer, Interaction
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory, UserFactory
from service.models import ContactStatus, LetterDispatch, Task
from service.services.contact import contact_status_refresh
from tiering.models import Notice
from tiering.tests.factories import NoticeFactory, TierChangeFactory, TierRunFactory
from web.tests.conftest import tiered_customer

pytestmark = pytest.mark.django_db


def local_input(moment: datetime.datetime) -> str:
    """What a datetime-local input sends: the wall-clock minute in the business time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def customer_url(customer, name="web:customer-detail"):
    return reverse(name, args=[customer.code])


def open_task(customer, owner, *, due_in=datetime.timedelta(days=1), **fields):
    fields.setdefault("title", "Quarterly call")
    return Task.objects.create(customer=customer, owner=owner, due_at=timezone.now() + due_in, **fields)


@pytest.fixture
def outsider_client(outsider):
    client = Client(headers={"accept-language": "en"})
    client.force_login(outsider)
    return client


# --- activities -------------------------------------------------------------------------------------


def test_a_visit_logged_on_the_customer_page_is_stored_and_moves_the_next_contact(
    manager_client, manager, book, django_capture_on_commit_callbacks
):
    core = book["core"]
    contact_status_refresh([core.pk])
    assert ContactStatus.objects.get(customer=core).last_contact_on is None
    happened = timezone.now() - datetime.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            customer_url(core, "web:activity-create"),
            {
                "kind": "visit",
                "occurred_at": local_input(happened),
                "duration_minutes": "45",
                "outcome": "Agreed to a renewal meeting",
                "note": "Met the buyer",
            },
        )
    assert response.status_code == 302 and response["Location"] == customer_url(core)
    visit = Interaction.objects.get(customer=core)
    assert (visit.kind, visit.duration_minutes, visit.outcome, visit.recorded_by) == (
        "visit",
        45,
        "Agreed to a renewal meeting",
        manager,
    )
    assert visit.happened_at is not None and visit.occurred_at == timezone.localtime(happened).date()
    status = ContactStatus.objects.get(customer=core)
    assert status.last_contact_on == visit.occurred_at
    assert status.due_on == visit.occurred_at + datetime.timedelta(days=30)  # core: monthly

    page = manager_client.get(response["Location"])
    assert page.context["contact"].status.last_contact_on == visit.occurred_at
    assert "Agreed to a renewal meeting" in page.content.decode()  # on the timeline


def test_an_activity_in_the_future_is_refused_beside_its_field_and_nothing_is_stored(manager_client, book):
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    response = manager_client.post(
        customer_url(book["core"], "web:activity-create"),
        {"kind": "call", "occurred_at": local_input(tomorrow), "duration_minutes": "10"},
    )
    assert response.status_code == 400
    errors = response.context["activity_form"].errors
    assert list(errors) == ["occurred_at"]
    assert "cannot lie in the future" in errors["occurred_at"][0]
    assert not Interaction.objects.exists()


def test_in_place_the_refused_form_comes_back_alone_with_the_error_beside_the_field(manager_client, book):
    response = manager_client.post(
        customer_url(book["core"], "web:activity-create"),
        {"kind": "call", "occurred_at": "2026-13-40T25:00", "duration_minutes": "2000"},
        headers={"X-Inplace": "1"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.lstrip().startswith("<form") and "<html" not in body
    assert 'id="activity_occurred_at"' in body and 'aria-invalid="true"' in body
    assert not Interaction.objects.exists()


@pytest.mark.parametrize(
    ("duration", "message"),
    [("0", "Between 1 and 1440 minutes."), ("1441", "Between 1 and 1440 minutes."), ("-5", "A whole number")],
)
def test_a_duration_out_of_range_is_named(manager_client, book, duration, message):
    response = manager_client.post(
        customer_url(book["core"], "web:activity-create"),
        {"kind": "call", "occurred_at": local_input(timezone.now()), "duration_minutes": duration},
    )
    assert response.status_code == 400
    assert message in response.context["activity_form"].errors["duration_minutes"][0]
    assert not Interaction.objects.exists()


def test_in_place_a_stored_activity_says_where_to_go(manager_client, book):
    response = manager_client.post(
        customer_url(book["core"], "web:activity-create"),
        {"kind": "call", "occurred_at": local_input(timezone.now()), "next": "/notices/?kind=downgrade"},
        headers={"X-Inplace": "1"},
    )
    assert response.status_code == 200
    assert json.loads(response.content) == {"location": "/notices/?kind=downgrade"}


def test_a_third_complaint_in_90_days_raises_the_complaints_warning_at_once(
    manager_client, manager, book, django_capture_on_commit_callbacks
):
    core = book["core"]
    for days in (20, 50):
        InteractionFactory(customer=core, kind="complaint", occurred_at=local_today() - datetime.timedelta(days=days))
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            customer_url(core, "web:activity-create"),
            {"kind": "complaint", "occurred_at": local_input(timezone.now()), "note": "Delivery late again"},
        )
    assert response.status_code == 302
    assert "complaints" in Customer.objects.get(pk=core.pk).flags
    warning = Notice.objects.get(customer=core, kind=Notice.Kind.EARLY_WARNING, payload__flag="complaints")
    assert warning.recipient == manager and warning.payload["complaints_recent"] == 3

    notices = manager_client.get("/notices/?warning=complaints").content.decode()
    assert "3 or more complaints in 90 days" in notices  # which warning, with the rule book's threshold
    assert "3 complaints in the window" in notices


def test_someone_elses_customer_cannot_be_logged_against(outsider_client, book):
    url = customer_url(book["core"], "web:activity-create")
    assert outsider_client.get(url).status_code == 404
    response = outsider_client.post(url, {"kind": "call", "occurred_at": local_input(timezone.now())})
    assert response.status_code == 404
    assert not Interaction.objects.exists()


def test_people_without_the_interaction_permission_may_not_log(client, book):
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_all_customers"))
    client.force_login(viewer)
    url = customer_url(book["core"], "web:activity-create")
    assert client.post(url, {"kind": "call", "occurred_at": local_input(timezone.now())}).status_code == 403
    assert "Log a call" not in client.get(customer_url(book["core"])).content.decode()


# --- follow-up tasks --------------------------------------------------------------------------------


def test_a_follow_up_is_planned_for_the_manager_and_listed_under_its_day(manager_client, manager, book):
    due = timezone.now() + datetime.timedelta(days=3)
    response = manager_client.post(
        customer_url(book["vip"], "web:task-create"),
        {"title": "Executive visit", "due_at": local_input(due), "priority": "3", "contact_kind": "visit", "note": ""},
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.owner, task.customer, task.priority, task.contact_kind, task.created_by) == (
        manager,
        book["vip"],
        3,
        "visit",
        manager,
    )
    assert "Executive visit" in manager_client.get(customer_url(book["vip"])).content.decode()
    sections = {s["bucket"]: s for s in manager_client.get("/tasks/").context["sections"]}
    assert [t.pk for t, _form in sections["week"]["rows"]] == [task.pk]
    assert sections["overdue"]["count"] == sections["today"]["count"] == 0


def test_a_task_without_a_title_or_due_date_names_the_fields(manager_client, book):
    response = manager_client.post(customer_url(book["vip"], "web:task-create"), {"title": "", "priority": "2"})
    assert response.status_code == 400
    assert set(response.context["task_form"].errors) == {"title", "due_at"}
    assert not Task.objects.exists()


def test_a_manager_may_not_plan_for_someone_else(manager_client, outsider, book):
    response = manager_client.post(
        customer_url(book["vip"], "web:task-create"),
        {"title": "Call", "due_at": local_input(timezone.now()), "priority": "2", "owner": outsider.username},
    )
    assert response.status_code == 400
    assert response.context["task_form"].errors["owner"]
    assert not Task.objects.exists()


def test_completing_a_contact_task_records_the_activity(
    manager_client, manager, book, django_capture_on_commit_callbacks
):
    task = open_task(book["core"], manager, contact_kind="call")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("web:task-complete", args=[task.pk]),
            {"note": "Renewal agreed", "occurred_at": local_input(timezone.now()), "duration_minutes": "15"},
        )
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.completed_by == manager
    assert (task.activity.kind, task.activity.note, task.activity.duration_minutes) == ("call", "Renewal agreed", 15)
    assert ContactStatus.objects.get(customer=book["core"]).last_contact_on == local_today()


def test_completing_with_a_future_time_is_refused_and_the_task_stays_open(manager_client, manager, book):
    task = open_task(book["core"], manager, contact_kind="call")
    response = manager_client.post(
        reverse("web:task-complete", args=[task.pk]),
        {"note": "x", "occurred_at": local_input(timezone.now() + datetime.timedelta(days=2))},
    )
    assert response.status_code == 400
    assert "future" in response.context["form"].errors["occurred_at"][0]
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and not Interaction.objects.exists()


def test_a_closed_task_cannot_be_completed_again(manager_client, manager, book):
    task = open_task(book["core"], manager, status=Task.Status.CANCELLED)
    response = manager_client.post(reverse("web:task-complete", args=[task.pk]), {"note": "again"})
    assert response.status_code == 400
    assert "only open tasks change" in response.context["form"].non_field_errors()[0]


def test_a_task_is_cancelled_with_a_note(manager_client, manager, book):
    task = open_task(book["core"], manager)
    response = manager_client.post(reverse("web:task-cancel", args=[task.pk]), {"note": "Customer moved"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.completion_note) == (Task.Status.CANCELLED, "Customer moved")


def test_someone_elses_task_is_unknown(outsider_client, manager, book):
    task = open_task(book["core"], manager, contact_kind="call")
    assert outsider_client.get(reverse("web:task-complete", args=[task.pk])).status_code == 404
    assert outsider_client.post(reverse("web:task-complete", args=[task.pk]), {"note": "x"}).status_code == 404
    assert outsider_client.post(reverse("web:task-cancel", args=[task.pk])).status_code == 404
    assert outsider_client.post(customer_url(book["core"], "web:task-create"), {"title": "x"}).status_code == 404
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN
    assert "Quarterly call" not in outsider_client.get("/tasks/").content.decode()


def test_the_tasks_page_sorts_into_overdue_today_this_week_and_later(manager_client, manager, book):
    now = timezone.localtime()
    overdue = open_task(book["core"], manager, due_in=-datetime.timedelta(hours=3), title="Overdue one")
    end_of_today = now.replace(hour=23, minute=59, second=0) - now
    today = (
        open_task(book["core"], manager, due_in=end_of_today, title="Today one") if end_of_today.seconds > 60 else None
    )
    week = open_task(book["vip"], manager, due_in=datetime.timedelta(days=3), title="Week one")
    later = open_task(book["vip"], manager, due_in=datetime.timedelta(days=20), title="Later one")
    sections = {s["bucket"]: [t.pk for t, _f in s["rows"]] for s in manager_client.get("/tasks/").context["sections"]}
    assert sections["overdue"] == [overdue.pk]
    assert sections["today"] == ([today.pk] if today else [])
    assert (sections["week"], sections["later"]) == ([week.pk], [later.pk])


def test_the_navigation_counts_my_open_tasks(manager_client, manager, book):
    open_task(book["core"], manager)
    open_task(book["vip"], manager)
    open_task(book["vip"], manager, status=Task.Status.DONE)
    body = manager_client.get("/customers/").content.decode()
    assert 'title="Open tasks">2</span>' in body


# --- contact plan -----------------------------------------------------------------------------------


def test_the_customer_list_shows_and_filters_the_contact_plan(manager_client, manager, book, tiers):
    today = local_today()
    contact_status_refresh(None)
    ContactStatus.objects.filter(customer=book["vip"]).update(due_on=today - datetime.timedelta(days=5))
    ContactStatus.objects.filter(customer=book["core"]).update(due_on=today + datetime.timedelta(days=3))
    ContactStatus.objects.filter(customer=book["potential"]).update(due_on=today + datetime.timedelta(days=40))

    overdue = manager_client.get("/customers/?contact=overdue")
    assert [row["customer"] for row in overdue.context["rows"]] == [book["vip"]]
    assert overdue.context["rows"][0]["contact"].days_overdue == 5
    assert "5 days overdue" in overdue.content.decode()
    due = manager_client.get("/customers/?contact=due&sort=name")
    assert {row["customer"].name for row in due.context["rows"]} == {"Zenith Robotics", "Harbour Foods"}
    assert "in 3 days" in due.content.decode()


def test_the_due_page_lists_the_most_overdue_first_and_only_the_managers(manager_client, admin_client_logged, book):
    today = local_today()
    contact_status_refresh(None)
    ContactStatus.objects.filter(customer=book["vip"]).update(due_on=today - datetime.timedelta(days=2))
    ContactStatus.objects.filter(customer=book["core"]).update(due_on=today - datetime.timedelta(days=9))
    response = manager_client.get("/contacts/due/?state=overdue")
    assert [status.customer for status, _contact in response.context["rows"]] == [book["core"], book["vip"]]
    assert "Outsider Steel" not in manager_client.get("/contacts/due/").content.decode()
    assert "Outsider Steel" in admin_client_logged.get("/contacts/due/").content.decode()


def test_the_dashboard_shows_my_tasks_the_plan_per_tier_and_prospects(manager_client, manager, book):
    open_task(book["core"], manager, due_in=-datetime.timedelta(hours=1))
    contact_status_refresh(None)
    Customer.objects.filter(pk=book["untiered"].pk).update(cooperation_since=None, prospect_grade="A")
    context = manager_client.get("/").context
    assert context["task_counts"]["overdue"] == 1
    cards = {card.tier.code: card for card, _cadence in context["plan_cards"]}
    assert cards["vip"].customers == 1 and cards["core"].customers == 1
    assert ("A", 1) in [(grade, count) for grade, _label, count in context["prospect_grades"]]


# --- notices ----------------------------------------------------------------------------------------


def test_a_notice_row_offers_its_next_steps_and_plans_each_once(manager_client, manager, book):
    down = book["down"]
    page = manager_client.get("/notices/?kind=downgrade")
    row = page.context["rows"][0]
    assert [offer.step.key for offer in row.steps] == ["send_letter", "win_back_call"]
    assert row.period == "2026-Q3"
    url = reverse("web:notice-step", args=[down.pk, "win_back_call"])
    assert manager_client.post(url, {"next": "/notices/"}).status_code == 302
    assert manager_client.post(url).status_code == 302
    task = Task.objects.get()
    assert (task.notice, task.step, task.owner, task.contact_kind) == (down, "win_back_call", manager, "call")
    row = manager_client.get("/notices/?kind=downgrade").context["rows"][0]
    assert row.steps[1].task["id"] == task.pk  # shown as planned, no second button


def test_someone_elses_notice_offers_no_step(outsider_client, book):
    url = reverse("web:notice-step", args=[book["down"].pk, "win_back_call"])
    assert outsider_client.post(url).status_code == 404
    assert not Task.objects.exists()


def test_acknowledge_all_that_match_the_filter_only_touches_the_users_matching_notices(manager_client, manager, book):
    page = manager_client.get("/notices/?kind=downgrade&state=open")
    assert page.context["open_matching"] == 1
    response = manager_client.post(
        reverse("web:notice-acknowledge-matching"),
        {"kind": "downgrade", "state": "open", "next": "/notices/?kind=downgrade&state=open"},
    )
    assert response.status_code == 302 and response["Location"] == "/notices/?kind=downgrade&state=open"
    assert Notice.objects.get(pk=book["down"].pk).acknowledged_by == manager
    assert Notice.objects.get(pk=book["up"].pk).acknowledged_at is None  # not an upgrade
    assert Notice.objects.get(pk=book["foreign_notice"].pk).acknowledged_at is None  # not theirs


def test_an_outsider_acknowledging_all_reaches_only_their_own(outsider_client, book):
    outsider_client.post(reverse("web:notice-acknowledge-matching"), {})
    assert Notice.objects.get(pk=book["foreign_notice"].pk).acknowledged_at is not None
    assert Notice.objects.filter(pk__in=[book["down"].pk, book["up"].pk], acknowledged_at__isnull=True).count() == 2


# --- letters ----------------------------------------------------------------------------------------


def test_marking_the_letter_sent_puts_it_on_the_timeline(manager_client, manager, book):
    core = book["core"]
    response = manager_client.post(reverse("web:customer-letter-send", args=[core.code, "print"]))
    assert response.status_code == 302 and response["Location"].endswith("#letter")
    letter = LetterDispatch.objects.get(customer=core)
    assert (letter.method, letter.sent_by) == ("print", manager)
    page = manager_client.get(customer_url(core) + "?timeline=letter")
    assert [row.kind for row in page.context["timeline_rows"]] == ["letter"]
    assert "sent (printed)" in page.content.decode()


def test_e_mailing_the_letter_needs_the_contacts_address(manager_client, book):
    core = book["core"]
    url = reverse("web:customer-letter-send", args=[core.code, "email"])
    response = manager_client.post(url, follow=True)
    assert "no contact e-mail address" in response.content.decode()
    assert not LetterDispatch.objects.exists() and not mail.outbox
    Customer.objects.filter(pk=core.pk).update(contact_email="buyer@harbour.example")
    manager_client.post(url)
    assert mail.outbox[0].to == ["buyer@harbour.example"]
    assert LetterDispatch.objects.get().email_to == "buyer@harbour.example"


def test_someone_elses_letter_cannot_be_sent(outsider_client, book):
    response = outsider_client.post(reverse("web:customer-letter-send", args=[book["core"].code, "print"]))
    assert response.status_code == 404
    assert not LetterDispatch.objects.exists()


def test_a_letter_whose_downgrade_was_reversed_says_so(manager_client, book, tiers):
    core = book["core"]
    type(core).objects.filter(pk=core.pk).update(language="en")  # the letter speaks the customer's language
    assert (
        "has since been reversed" not in manager_client.get(customer_url(core, "web:customer-letter")).content.decode()
    )
    later = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 10, 1))
    TierChangeFactory(run=later, customer=core, from_tier=tiers["core"], to_tier=tiers["vip"])
    body = manager_client.get(customer_url(core, "web:customer-letter")).content.decode()
    assert "This downgrade has since been reversed: the customer was upgraded again on 2026-10-01." in body


# --- prospects --------------------------------------------------------------------------------------


def test_prospects_list_by_grade_and_a_manager_sets_the_grade_on_the_customer_page(manager_client, manager, book):
    prospect = CustomerFactory(account_manager=manager, cooperation_since=None, name="Lead One", prospect_grade="C")
    CustomerFactory(account_manager=UserFactory(), cooperation_since=None, name="Foreign Lead", prospect_grade="C")
    listed = manager_client.get("/prospects/?grade=C")
    assert [c.name for c in listed.context["page_obj"].object_list] == ["Lead One"]
    page = manager_client.get(customer_url(prospect)).content.decode()
    assert "Prospect · C" in page and 'name="prospect_grade"' in page
    assert 'name="prospect_grade"' not in manager_client.get(customer_url(book["vip"])).content.decode()

    close = local_today() + datetime.timedelta(days=20)
    response = manager_client.post(
        customer_url(prospect, "web:customer-update"), {"prospect_grade": "A", "expected_close_on": close.isoformat()}
    )
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert (prospect.prospect_grade, prospect.expected_close_on) == ("A", close)
    assert [c.name for c in manager_client.get("/prospects/?grade=A").context["page_obj"].object_list] == ["Lead One"]


def test_a_bad_grade_is_named(manager_client, manager):
    prospect = CustomerFactory(account_manager=manager, cooperation_since=None)
    response = manager_client.post(customer_url(prospect, "web:customer-update"), {"prospect_grade": "Z"})
    assert response.status_code == 400
    assert response.context["edit_form"].errors["prospect_grade"]


# --- a fixed number of queries ----------------------------------------------------------------------


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_customers(manager, tiers, count: int) -> None:
    for n in range(count):
        customer = tiered_customer(manager, tiers["core" if n % 2 else "vip"], "80.00")
        open_task(customer, manager, due_in=datetime.timedelta(days=(n % 5) - 2), contact_kind="call")
        InteractionFactory(customer=customer, kind="call", occurred_at=local_today() - datetime.timedelta(days=n))
    CustomerFactory(account_manager=manager, cooperation_since=None, prospect_grade="B")
    contact_status_refresh(None)


@pytest.mark.parametrize("url", ["/tasks/", "/contacts/due/", "/", "/prospects/", "/notices/", "/customers/"])
def test_pages_run_the_same_number_of_queries_for_3_and_30_customers(manager_client, manager, tiers, url):
    add_customers(manager, tiers, 3)
    few = queries_for(manager_client, url)
    add_customers(manager, tiers, 27)
    assert queries_for(manager_client, url) == few


def test_the_customer_page_with_its_timeline_runs_a_fixed_number_of_queries(manager_client, manager, book, tiers):
    core = book["core"]
    open_task(core, manager)
    few = queries_for(manager_client, customer_url(core))
    for n in range(30):
        InteractionFactory(customer=core, kind="visit", occurred_at=local_today() - datetime.timedelta(days=n))
        open_task(core, manager, due_in=datetime.timedelta(days=n))
        older_run = TierRunFactory(period=f"2025-{n}", as_of=datetime.date(2025, 1, 1))  # the downgrade stays latest
        NoticeFactory(change=TierChangeFactory(customer=core, run=older_run), recipient=manager)
    LetterDispatch.objects.create(customer=core, change=book["down"].change, method="print", sent_by=manager)
    assert queries_for(manager_client, customer_url(core)) == few


@pytest.mark.parametrize("url", ["/tasks/", "/contacts/due/", "/prospects/"])
def test_the_new_pages_speak_chinese_by_default(manager, book, url):
    client = Client()
    client.force_login(manager)
    body = client.get(url).content.decode()
    assert '<html lang="zh-hans">' in body and "工作台" in body  # the layout, in the default language


def test_order_amounts_on_the_timeline_are_grouped(manager_client, book):
    OrderFactory(customer=book["vip"], amount=Decimal("1234567.50"))
    body = manager_client.get(customer_url(book["vip"]) + "?timeline=order").content.decode()
    assert "¥1,234,567.50" in body


def test_the_new_pages_use_no_inline_scripts_or_styles(manager_client, manager, book):
    """The Content-Security-Policy forbids them: behaviour lives in app.js, styles in app.css."""
    open_task(book["core"], manager, contact_kind="call")
    task = Task.objects.get()
    pages = [
        "/tasks/",
        "/contacts/due/",
        "/prospects/",
        "/notices/",
        customer_url(book["core"]),
        customer_url(book["core"], "web:activity-create"),
        customer_url(book["core"], "web:task-create"),
        reverse("web:task-complete", args=[task.pk]),
    ]
    for url in pages:
        body = manager_client.get(url).content.decode()
        assert " style=" not in body and " onclick=" not in body and " onsubmit=" not in body, url
        for chunk in body.split("<script")[1:]:
            assert ' src="' in chunk.split(">")[0] or 'type="application/json"' in chunk.split(">")[0], url
