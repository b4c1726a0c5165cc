"""The workbench in a real browser (Debian's headless Chromium through Playwright, launched as in
test_browser.py; never `playwright install`): log a visit in place and see the next contact move,
plan and complete a follow-up, log a third complaint and see the warning, send a letter and find
it on the timeline, acknowledge every notice a filter matches, and read it all on a phone."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.clock import local_today
from crm.models import Customer, Interaction
from crm.tests.factories import InteractionFactory
from service.models import ContactStatus, LetterDispatch, Task
from service.services.contact import contact_status_refresh
from tiering.models import Notice
from web.tests import test_browser as launcher

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

outside_the_event_loop = launcher.outside_the_event_loop


@pytest.fixture
def browser(live_server, book, prepared):
    """As test_browser.py's: started after every fixture that writes rows, stopped before the reset."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=launcher.CHROMIUM, headless=True, args=launcher.CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def prepared(book, manager):
    """The manager's core customer last called 40 days ago (so 10 days overdue on its monthly plan),
    with two complaints in the last quarter; every contact status computed; one open follow-up."""
    core = book["core"]
    today = local_today()
    InteractionFactory(customer=core, kind="call", occurred_at=today - datetime.timedelta(days=40))
    for days in (15, 60):
        InteractionFactory(customer=core, kind="complaint", occurred_at=today - datetime.timedelta(days=days))
    contact_status_refresh(None)
    Task.objects.create(
        customer=book["vip"],
        owner=manager,
        title="Prepare the quarterly review",
        due_at=timezone.now() + datetime.timedelta(days=10),
    )
    return {"due_before": today - datetime.timedelta(days=10)}


def english_page(browser, live_server, **size):
    page = launcher.new_page(browser, locale="en-US", **size)
    launcher.log_in(page, live_server, "manager")
    return page


def test_a_visit_logged_in_place_moves_the_next_contact(live_server, book, prepared, browser):
    core = book["core"]
    page = english_page(browser, live_server)
    page.goto(f"{live_server.url}{reverse('web:customer-detail', args=[core.code])}")
    next_contact = page.locator(".fact--next-contact dd")
    assert prepared["due_before"].isoformat() in next_contact.inner_text()
    assert "10 days overdue" in next_contact.inner_text()

    page.click("button[data-log-kind=visit]")  # opens the form in place, set to a visit now
    form = page.locator("#activity-form")
    assert form.is_visible()
    assert form.locator("select[name=kind]").input_value() == "visit"
    assert form.locator("input[name=occurred_at]").input_value().startswith(local_today().isoformat())
    form.locator("input[name=duration_minutes]").fill("50")
    form.locator("input[name=outcome]").fill("Agreed on next year's volumes")
    form.locator("button[type=submit]").click()

    page.wait_for_selector(".message--success")
    due = (local_today() + datetime.timedelta(days=30)).isoformat()
    assert due in page.locator(".fact--next-contact dd").inner_text()  # monthly plan: due in 30 days now
    assert "Agreed on next year's volumes" in page.locator("#timeline").inner_text()
    visit = outside_the_event_loop(lambda: Interaction.objects.get(customer=core, kind="visit"))
    assert (visit.duration_minutes, visit.happened_at is not None) == (50, True)
    assert outside_the_event_loop(lambda: ContactStatus.objects.get(customer=core).due_on.isoformat()) == due
    assert page.problems == []


def test_a_future_time_is_refused_beside_the_field_without_leaving_the_page(live_server, book, browser):
    core = book["core"]
    page = english_page(browser, live_server)
    url = f"{live_server.url}{reverse('web:customer-detail', args=[core.code])}"
    page.goto(url)
    page.click("button[data-log-kind=call]")
    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    page.fill("#activity-form input[name=occurred_at]", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.click("#activity-form button[type=submit]")
    error = page.wait_for_selector("#activity-form .field--invalid .field__error")
    assert "cannot lie in the future" in error.inner_text()
    assert page.url == url  # still on the customer page, the form swapped in place
    assert outside_the_event_loop(lambda: Interaction.objects.filter(customer=core, kind="call").count()) == 1
    # The refused post answers 400, which Chromium reports on the console; nothing else may be there.
    assert [problem for problem in page.problems if "status of 400" not in problem] == []


def test_a_follow_up_is_planned_on_the_customer_page_and_completed_on_my_tasks(live_server, book, manager, browser):
    core = book["core"]
    page = english_page(browser, live_server)
    page.goto(f"{live_server.url}{reverse('web:customer-detail', args=[core.code])}")
    page.click("#plan-task > summary")
    due = timezone.localtime() + datetime.timedelta(days=2)
    page.fill("#task_title", "Call about the spring order")
    page.fill("#task_due_at", due.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#task_priority", "3")
    page.click("#task-form button[type=submit]")
    page.wait_for_selector(".message--success")
    assert "Call about the spring order" in page.locator("#contact").inner_text()

    page.click("nav.mainnav >> a[href='/tasks/']")
    assert page.locator("nav.mainnav a[href='/tasks/'] .count-badge").inner_text() == "2"
    task = page.locator(".task", has_text="Call about the spring order")
    assert task.locator("xpath=ancestor::section").get_attribute("id") == "tasks-week"
    task.locator("summary", has_text="Done").click()
    done = task.locator("form[action$='/complete/']")
    done.locator("textarea[name=note]").fill("Spring order confirmed")
    done.locator("input[name=duration_minutes]").fill("12")
    done.locator("button[type=submit]").click()
    page.wait_for_selector(".message--success")
    assert "Done: Call about the spring order. The call is logged." in page.locator(".message--success").inner_text()
    assert page.locator(".task", has_text="Call about the spring order").count() == 0
    assert page.locator("nav.mainnav a[href='/tasks/'] .count-badge").inner_text() == "1"

    stored = outside_the_event_loop(lambda: Task.objects.select_related("activity").get(title__startswith="Call about"))
    assert stored.status == Task.Status.DONE and stored.completed_by_id == manager.pk
    assert (stored.activity.kind, stored.activity.note, stored.activity.duration_minutes) == (
        "call",
        "Spring order confirmed",
        12,
    )
    assert page.problems == []


def test_a_third_complaint_raises_the_complaints_warning(live_server, book, browser):
    core = book["core"]
    page = english_page(browser, live_server)
    page.goto(f"{live_server.url}{reverse('web:customer-detail', args=[core.code])}")
    assert "Repeated complaints" not in page.locator(".pagehead--customer").inner_text()
    page.click("#log-activity > summary")
    page.select_option("#activity_kind", "complaint")
    page.fill("#activity_note", "Third late delivery this quarter")
    page.click("#activity-form button[type=submit]")
    page.wait_for_selector(".message--success")
    assert "Repeated complaints" in page.locator(".pagehead--customer .flag").all_inner_texts()
    assert outside_the_event_loop(lambda: "complaints" in Customer.objects.get(pk=core.pk).flags)

    page.goto(f"{live_server.url}/notices/?warning=complaints")
    row = page.locator("tbody tr", has_text=core.name)
    assert "3 or more complaints in 90 days" in row.inner_text()
    assert "3 complaints in the window" in row.inner_text()
    row.locator("button", has_text="Plan: Call about the early warning").click()
    page.wait_for_selector(".message--success")
    assert "planned" in page.locator("tbody tr", has_text=core.name).inner_text()
    assert page.problems == []


def test_a_letter_marked_as_sent_shows_on_the_timeline(live_server, book, manager, browser):
    core = book["core"]
    page = english_page(browser, live_server)
    page.goto(f"{live_server.url}{reverse('web:customer-detail', args=[core.code])}")
    page.click("#letter button:has-text('Mark as sent')")
    page.wait_for_selector(".message--success")
    assert "Sent (printed) on" in page.locator("#letter").inner_text()
    entry = page.locator("#timeline .timeline__item--letter")
    assert entry.count() == 1 and "sent (printed)" in entry.inner_text()
    page.click("#timeline a.chip:has-text('Letters')")
    assert page.locator("#timeline .timeline__item").count() == 1
    letter = outside_the_event_loop(lambda: LetterDispatch.objects.get(customer=core))
    assert (letter.method, letter.sent_by_id) == ("print", manager.pk)
    assert page.problems == []


def test_acknowledge_all_notices_the_filter_matches(live_server, book, browser):
    page = english_page(browser, live_server)
    page.goto(f"{live_server.url}/notices/")
    assert page.locator("tr.row--open").count() == 2
    page.select_option("select[name=kind]", "downgrade")  # submits itself
    page.wait_for_url("**/notices/?*kind=downgrade*")
    page.click(".ack-matching button")
    page.wait_for_selector(".message--success")
    assert page.locator("tr.row--open").count() == 0
    states = outside_the_event_loop(
        lambda: dict(Notice.objects.filter(recipient__username="manager").values_list("kind", "acknowledged_at"))
    )
    assert states["downgrade"] is not None and states["upgrade"] is None  # only what the filter matched
    assert page.problems == []


@pytest.mark.parametrize(
    "path",
    ["/", "/customers/", "/tasks/", "/contacts/due/", "/prospects/", "/notices/", "customer"],
)
def test_on_a_phone_no_page_is_wider_than_the_screen(live_server, book, browser, path):
    page = english_page(browser, live_server, width=390, height=844)
    url = reverse("web:customer-detail", args=[book["core"].code]) if path == "customer" else path
    page.goto(f"{live_server.url}{url}")
    if path == "customer":
        page.click("button[data-log-kind=call]")  # the form opened in place fits too
        page.click("#plan-task > summary")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.problems == []
