"""The pages on a phone (390 x 844) and on a laptop (1280 wide) in a real browser: nothing pushes
the page sideways, tables turn into stacked cards on the phone, the list's filters wait behind a
button there, and date inputs hold ISO values in Chinese.

Same browser and helpers as test_browser.py (Debian's /usr/bin/chromium; never `playwright install`).
"""

import re

import pytest
from django.urls import reverse

# `browser` is test_browser's fixture: each test takes it by name (hence noqa: F811 on them).
from web.tests.test_browser import browser, log_in, new_page  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}

# Sideways overflow, measured the way a person notices it: the page scrolls sideways, or a table
# scrolls inside its box (columns and badges cut off at the edge).
OVERFLOW = """() => ({
  page: document.documentElement.scrollWidth,
  tables: [...document.querySelectorAll('.table-wrap')]
    .filter(wrap => wrap.scrollWidth > wrap.clientWidth + 1)
    .map(wrap => wrap.querySelector('table').className),
  badges: [...document.querySelectorAll('.tier-badge, .flag, .status, .notice-kind')]
    .filter(badge => badge.getClientRects().length && badge.getBoundingClientRect().right > window.innerWidth)
    .map(badge => badge.textContent.trim()),
})"""


def pages(book) -> dict[str, str]:
    return {
        "dashboard": "/",
        "list": reverse("web:customer-list"),
        "detail": reverse("web:customer-detail", args=[book["core"].code]),
        "notices": reverse("web:notice-list"),
        "runs": reverse("web:run-list"),
    }


def label_of(row, selector: str) -> str:
    """The label a stacked card shows beside a cell (its ::before), quotes removed."""
    return row.locator(selector).first.evaluate("cell => getComputedStyle(cell, '::before').content").strip('"')


@pytest.mark.parametrize("username", ["manager", "admin"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_on_a_phone_pages_fit_and_tables_are_cards(live_server, book, admin_user, browser, username, locale):  # noqa: F811
    page = new_page(browser, locale=locale, **PHONE)
    log_in(page, live_server, username)
    for name, url in pages(book).items():
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        assert page.evaluate(OVERFLOW) == {"page": 390, "tables": [], "badges": []}, name
    assert page.problems == []


def test_the_customer_list_on_a_phone_stacks_each_customer_and_hides_the_filters_behind_a_button(
    live_server,
    book,
    browser,  # noqa: F811
):
    page = new_page(browser, **PHONE)
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}{reverse('web:customer-list')}?tier=core")

    # The filters wait behind their button, which counts the filters in use.
    toggle = page.locator("details.filters-panel > summary")
    assert toggle.is_visible() and toggle.locator(".count-badge").inner_text() == "1"
    assert not page.locator("form.filters").is_visible()
    toggle.click()
    assert page.locator("form.filters select[name=tier]").is_visible()
    page.select_option("select[name=tier]", "")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"/customers/\?"))

    # Each customer is a card: the name on top, then each figure beside its label; no header row.
    row = page.locator("table.table--customers tbody tr").filter(has_text="Harbour Foods")
    assert row.evaluate("tr => getComputedStyle(tr).display") == "block"
    assert page.locator("table.table--customers thead").bounding_box()["height"] <= 1  # for screen readers only
    assert label_of(row, "td.num") == "得分"  # the score, labelled in Chinese
    name_box, score_box = row.locator("td").first.bounding_box(), row.locator("td.num").first.bounding_box()
    assert score_box["y"] >= name_box["y"] + name_box["height"] - 1  # stacked under the name, not beside it
    assert score_box["x"] + score_box["width"] <= 390
    assert "78.20" in row.inner_text()
    assert page.problems == []


@pytest.mark.parametrize("username", ["manager", "admin"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_on_a_laptop_tables_keep_their_columns_and_fit(live_server, book, admin_user, browser, username, locale):  # noqa: F811
    page = new_page(browser, locale=locale, **LAPTOP)
    log_in(page, live_server, username)
    for name, url in pages(book).items():
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        assert page.evaluate(OVERFLOW) == {"page": 1280, "tables": [], "badges": []}, name
        for table in page.locator("table.table--stack").all():
            assert table.locator("thead").bounding_box()["height"] > 20, name  # a table with its header row
    page.goto(f"{live_server.url}{reverse('web:customer-list')}")
    assert page.locator("form.filters").is_visible()  # no button to press on a wide screen
    assert not page.locator("details.filters-panel > summary").is_visible()
    assert page.problems == []


def test_date_inputs_hold_iso_dates_in_chinese(live_server, book, admin_user, browser):  # noqa: F811
    """A date input drops a value it cannot read ("2026/11/30", the Chinese format): the field
    showed empty. What the browser kept is what the person sees."""
    page = new_page(browser, locale="zh-CN", **LAPTOP)
    log_in(page, live_server, "admin")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.goto(f"{live_server.url}{reverse('web:run-list')}")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.input_value("input[type=date][name=as_of]"))
    page.goto(f"{live_server.url}{reverse('web:customer-detail', args=[book['core'].code])}")
    assert page.input_value("input[type=date][name=cooperation_since]") == "2023-01-01"
    assert page.problems == []
