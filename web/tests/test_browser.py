"""The account manager's day in a real browser: Debian's headless Chromium driven by Playwright.

Never `playwright install`: the browser is /usr/bin/chromium, installed by the test setup.
"""

import datetime
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.urls import reverse

from tiering.models import Notice, TierRun
from tiering.tests.factories import TierRunFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # Committed rows, so the live server's thread sees what the fixtures create; serialized
    # rollback, so each test starts from the rows the migrations seed (tiers, scoring rules,
    # groups) and leaves the tables empty behind it, like every transactional test of the suite.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser(live_server, book):
    """One browser per test, started after the database is ready and stopped before it is reset.

    While it is open, Playwright's sync API keeps an asyncio event loop marked as running in this
    thread, so Django refuses ORM calls here (SynchronousOnlyOperation): the test reads and writes
    the database through `outside_the_event_loop`, and fixtures that touch the database come before
    this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def outside_the_event_loop(work):
    """`work()` (ORM calls made while the browser is open), run in a short-lived thread that has no
    event loop, so Django's async-safety check stays on everywhere instead of being switched off.

    The thread borrows this thread's database connections, which this thread leaves alone while it
    waits for the result: the rows `work` reads and writes are the test's own, in the same
    connection the live server shares on SQLite in memory."""
    borrowed = {alias: connections[alias] for alias in connections}

    def in_borrowed_connections():
        for alias, connection in borrowed.items():
            connections[alias] = connection
        return work()

    for connection in borrowed.values():
        connection.inc_thread_sharing()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(in_borrowed_connections).result()
    finally:
        for connection in borrowed.values():
            connection.dec_thread_sharing()


def new_page(browser, *, locale: str = "zh-CN", width: int = 1366, height: int = 900):
    """A fresh session (Chinese, the product's default, unless told) that records script errors."""
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15000)
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.problems = problems
    return page


def log_in(page, live_server, username: str):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass12345")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_manager_filters_opens_a_breakdown_acknowledges_a_notice_and_switches_language(
    live_server, book, manager, browser
):
    page = new_page(browser)
    log_in(page, live_server, "manager")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("a.tile").count() == 5  # one tile per tier on the dashboard
    assert page.evaluate("Chart.getChart(document.getElementById('tier-chart')) !== undefined")

    # Filter the list by tier: the URL carries the filter, only the core customer remains.
    page.click("nav.mainnav >> a[href='/customers/']")
    page.select_option("select[name=tier]", "core")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"/customers/\?.*tier=core"))
    rows = page.locator("table.table--customers tbody tr")
    assert rows.count() == 1
    assert "Harbour Foods" in rows.first.inner_text()
    badge = rows.first.locator(".tier-badge")
    assert badge.evaluate("el => getComputedStyle(el).getPropertyValue('--tier').trim()") == book["core"].tier.colour

    # Open the customer: the live breakdown is drawn per rule, 60/40 per category.
    rows.first.locator("a").first.click()
    page.wait_for_url(f"{live_server.url}{reverse('web:customer-detail', args=[book['core'].code])}")
    page.wait_for_load_state("load")  # deferred scripts have drawn the charts by then
    bars = page.evaluate("Chart.getChart(document.getElementById('breakdown-chart')).data.labels.length")
    assert bars == 6
    assert "/ 60" in page.locator(".table--breakdown").inner_text()
    assert "91310000MA1FL8XQ3K" not in page.content()

    # Acknowledge one notice from the notices page.
    page.click("nav.mainnav >> a[href='/notices/']")
    open_before = page.locator("tr.row--open").count()
    assert open_before == 2
    page.locator(f"button[form='ack-{book['down'].pk}']").click()
    page.wait_for_selector(".message--success")
    assert page.locator("tr.row--open").count() == 1
    assert outside_the_event_loop(lambda: Notice.objects.get(pk=book["down"].pk).acknowledged_by) == manager

    # Switch to English and back.
    page.click("button[name=language][value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("nav.mainnav").inner_text().split()[:2] == ["Dashboard", "Customers"]
    page.click("button[name=language][value=zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    assert page.locator("nav.mainnav").inner_text().split()[:2] == ["工作台", "客户"]

    assert page.problems == []  # no script errors, no Content-Security-Policy violations


def test_another_manager_cannot_open_the_first_managers_customer(live_server, book, browser):
    page = new_page(browser)
    log_in(page, live_server, "outsider")
    response = page.goto(f"{live_server.url}{reverse('web:customer-detail', args=[book['core'].code])}")
    assert response.status == 404
    page.goto(f"{live_server.url}/customers/")
    assert "Harbour Foods" not in page.content()
    assert "Outsider Steel" in page.content()


def test_phone_width_keeps_the_list_readable(live_server, book, browser):
    page = new_page(browser, locale="en-US", width=390, height=844)
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/customers/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing pushes the page sideways on a phone


@pytest.fixture
def running_run(book):
    return TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 12, 31), status="running", total=200, done=50)


def test_a_running_run_shows_live_progress_and_the_page_refreshes_when_it_ends(
    live_server, running_run, admin_user, browser
):
    page = new_page(browser, locale="en-US")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "pass12345")
    page.click("form.card button[type=submit]")
    page.goto(f"{live_server.url}/runs/")
    assert page.locator("[data-run-progress] progress").get_attribute("value") == "25"
    outside_the_event_loop(lambda: TierRun.objects.filter(pk=running_run.pk).update(done=150))
    page.wait_for_selector("[data-run-progress] progress[value='75']")  # polled, no reload yet
    outside_the_event_loop(lambda: TierRun.objects.filter(pk=running_run.pk).update(done=200, status="succeeded"))
    page.wait_for_selector("[data-run-progress]", state="detached")  # reloaded: nothing runs any more
    assert page.problems == []
