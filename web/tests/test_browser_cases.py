"""Cases and results in a real browser: a manager opens a case for a VIP customer, watches its
first-response countdown, answers, resolves and closes it with grade A, and the results page
counts it within the SLA; on a phone the cases list, the case page and the results page fit.

Same browser and helpers as test_browser.py (Debian's /usr/bin/chromium; never `playwright install`).
"""

import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from commitments.services import cases as case_services

# `browser` is test_browser's fixture: each test takes it by name (hence noqa: F811 on them).
from web.tests.test_browser import browser, log_in, new_page  # noqa: F401
from web.tests.test_browser_layout import OVERFLOW, PHONE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

COUNTDOWN_LEFT = re.compile(r"^\d\d:\d\d:\d\d left$")


@pytest.fixture(autouse=True)
def results_cache_cleared():
    cache.clear()
    yield
    cache.clear()


def current_quarter() -> str:
    today = timezone.localdate()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def test_a_manager_answers_a_vip_case_in_time_and_the_results_count_it(live_server, book, browser):  # noqa: F811
    page = new_page(browser, locale="en-US")
    log_in(page, live_server, "manager")

    # From the VIP customer's page: open a case.
    page.goto(f"{live_server.url}{reverse('web:customer-detail', args=[book['vip'].code])}")
    page.click("#cases a:has-text('Open a case')")
    page.wait_for_url(re.compile(r"/cases/new/$"))
    assert "within 15 min (Around the clock (24×7))" in page.locator(".case-promise").inner_text()
    page.select_option("select[name=kind]", "incident")
    page.select_option("select[name=severity]", "4")
    page.fill("input[name=subject]", "Production line stopped")
    page.fill("textarea[name=description]", "Line 3 has been down since 9:00.")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))

    # The countdown to the first-response deadline runs, on the VIP tier's 24x7 clock.
    countdown = page.locator("#deadline .countdown[data-deadline]")
    first = countdown.inner_text()
    assert COUNTDOWN_LEFT.match(first), first
    assert first.startswith("00:14:") or first.startswith("00:15:")
    page.wait_for_timeout(1500)  # it ticks every second
    later = countdown.inner_text()
    assert later != first and COUNTDOWN_LEFT.match(later), later
    assert "countdown--overdue" not in countdown.get_attribute("class")
    assert page.locator(".case-clock").inner_text() == "Around the clock (24×7)"
    assert page.locator("aside .tier-badge").first.inner_text() == "VIP"

    # The first reply stops the clock, in time.
    page.fill("textarea[name=body]", "An engineer is on the way.")
    page.click("#replies button[type=submit]")
    page.wait_for_selector(".message--success")
    assert page.locator("#deadline .countdown[data-deadline]").count() == 0
    assert "in time" in page.locator("#deadline").inner_text()
    assert "An engineer is on the way." in page.locator("#replies").inner_text()

    # Resolve, then close with grade A.
    page.click("summary[data-action=resolved]")
    page.fill("#move-resolved-resolution", "Drive belt replaced.")
    page.click("#move-resolved button[type=submit]")
    page.wait_for_selector(".status--case-resolved")
    page.click("summary[data-action=closed]")
    page.check("#move-closed input[name=satisfaction][value=A]")
    page.click("#move-closed button[type=submit]")
    page.wait_for_selector(".status--case-closed")
    assert "A: very satisfied" in page.locator("aside").inner_text()

    # The results page counts it: VIP, this quarter, 1 case answered in time of 1.
    page.click("nav.mainnav >> a[href='/results/']")
    page.wait_for_url(f"{live_server.url}/results/")
    cell = page.locator(f"table[data-figure=sla_compliance] tr[data-tier=vip] td[data-quarter='{current_quarter()}']")
    assert cell.locator(".result__value").inner_text() == "100.0%"
    assert "n = 1" in cell.inner_text() and "met 1" in cell.inner_text()
    assert page.evaluate("Chart.getChart(document.getElementById('results-chart-sla_compliance')) !== undefined")
    assert page.problems == []


@pytest.fixture
def cases_for_the_phone(book, manager):
    """An open VIP case past its deadline and an answered one, before the browser opens."""
    late = case_services.case_open(
        customer=book["vip"],
        kind="complaint",
        subject="Delivery three days late, again — the customer asks for a credit note",
        user=manager,
        opened_at=timezone.now() - datetime.timedelta(hours=2),
    )
    answered = case_services.case_open(customer=book["core"], kind="request", subject="Invoice copy", user=manager)
    case_services.case_respond(case=answered, user=manager, body="Sent.")
    return late


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_on_a_phone_the_cases_and_results_pages_fit(live_server, book, cases_for_the_phone, browser, locale):  # noqa: F811
    page = new_page(browser, locale=locale, **PHONE)
    log_in(page, live_server, "manager")
    for name, url in {
        "cases": reverse("web:case-list"),
        "case": reverse("web:case-detail", args=[cases_for_the_phone.pk]),
        "results": reverse("web:results"),
    }.items():
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        assert page.evaluate(OVERFLOW) == {"page": 390, "tables": [], "badges": []}, name
    # The overdue case's countdown is red on the case page.
    assert page.problems == []
    page.goto(f"{live_server.url}{reverse('web:case-detail', args=[cases_for_the_phone.pk])}")
    colour = page.locator("#deadline .countdown").evaluate("el => getComputedStyle(el).color")
    assert colour == "rgb(185, 28, 28)"  # --down
