"""An administrator's backtest in a real browser (Debian's headless Chromium through Playwright):
run a backtest from admin, read the per-tier table and the misplaced customers, start a weight
suggestion and open its simulation. Never `playwright install`: the browser is /usr/bin/chromium."""

import datetime

import pytest

from core.clock import local_today
from crm.tests.factories import CustomerFactory, UserFactory
from scoring.backtest_data import default_as_of
from scoring.tests.test_backtest_services import make_book, orders
from web.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, new_page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # Committed rows, so the live server's thread sees them; serialized rollback restores the seeded rows.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def book():
    """The backtest book dated back from today (the pages default to a year before the latest
    complete month), with enough customers for a suggestion to fit weights on."""
    as_of = default_as_of(local_today())
    cast = make_book(as_of)
    for n in range(15):
        customer = CustomerFactory(name=f"More {n}", cooperation_since=datetime.date(2018, 1, 1))
        orders(
            customer,
            amount=str(700 + 50 * n),
            count=3 + n % 4,
            start=as_of - datetime.timedelta(days=725),
            end=as_of + datetime.timedelta(days=365),
        )
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    return cast


@pytest.fixture
def browser(live_server, book):
    """Started after the database rows exist (Playwright's loop would refuse ORM calls here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_an_administrator_backtests_reads_the_report_and_opens_a_suggestions_simulation(live_server, book, browser):
    page = new_page(browser, locale="en-US")
    missing = []
    page.on("response", lambda response: response.status >= 400 and missing.append(response.url))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "pass12345")
    page.click("input[type=submit]")

    # A backtest of the saved rules, started from the Backtests list.
    page.goto(f"{live_server.url}/admin/scoring/backtest/")
    page.click("text=New backtest")
    page.click("input[type=submit][value='Run the backtest']")
    page.wait_for_selector("#tiers-current")
    tiers = page.locator("#tiers-current tbody tr")
    assert tiers.count() == 5
    assert tiers.first.locator("th").inner_text().startswith("VIP")
    assert "35 customers were customers on" in page.locator("#backtest-data").inner_text()
    rising = page.locator("#misplaced-current table[data-list=rising]")
    assert book["riser"].code in rising.inner_text()
    lapsed = page.locator("#misplaced-current table[data-list=lapsed]")
    assert book["quitter"].code in lapsed.inner_text()
    assert page.locator("#misplaced-current a.csv-link").count() == 2
    assert page.locator("#chart-gains svg polyline").count() == 2  # the saved rules and the random order

    # A weight suggestion for the default profile, then its simulation.
    page.goto(f"{live_server.url}/admin/scoring/backtest/")
    page.click("text=New weight suggestion")
    page.click("input[type=submit][value='Start the suggestion']")
    page.wait_for_selector("#suggested-weights")
    assert page.locator("#suggested-weights tbody tr").count() == 6
    assert page.locator("#suggestion-windows tr[data-window=report]").count() == 1
    assert page.locator("#tiers-draft").count() == 1  # the suggested weights beside the saved ones
    page.click("#open-simulation input[type=submit]")
    page.wait_for_selector("#tier-matrix")
    assert "What this change alone does" in page.locator("#tier-change h2").inner_text()
    assert page.locator("#category-split").inner_text() == "quantitative 60 / qualitative 40"
    # Django admin pages name no icon, so the browser asks for /favicon.ico; nothing else may fail.
    assert [url for url in missing if not url.endswith("/favicon.ico")] == []
    assert [problem for problem in page.problems if not problem.startswith("Failed to load resource")] == []
