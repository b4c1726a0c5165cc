"""Take the README screenshots from a running demo server.

DEBUG=1 DATABASE_URL=sqlite:////tmp/ui-demo.sqlite3 .venv/bin/python manage.py seed_demo
DEBUG=1 DATABASE_URL=sqlite:////tmp/ui-demo.sqlite3 .venv/bin/python manage.py retier
DEBUG=1 DATABASE_URL=sqlite:////tmp/ui-demo.sqlite3 .venv/bin/python manage.py runserver 8791
.venv/bin/python docs/screenshots/take.py http://127.0.0.1:8791
DEBUG=1 DATABASE_URL=sqlite:////tmp/ui-demo.sqlite3 .venv/bin/python manage.py seed_demo --after-runs
.venv/bin/python docs/screenshots/take.py http://127.0.0.1:8791 workbench   # the workbench-*.png only
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"]


def shoot(base: str, pages: list[tuple[str, str]], *, username: str, width: int, height: int, language: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            locale="zh-CN" if language == "zh-hans" else "en-US",
        )
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "manager12345" if username.startswith("manager") else "admin12345")
        page.click("button[type=submit].btn--primary")
        page.wait_for_url(f"{base}/")
        if language != "zh-hans":
            page.click(f"button[name=language][value={language}]")
            page.wait_for_load_state("networkidle")
        for name, path in pages:
            if path == "letter-customer":  # a downgraded customer whose letter went out: a full timeline
                page.goto(f"{base}/notices/?kind=downgrade")
                page.click("tbody tr:has(span.step--planned) a[href^='/customers/']")
            elif path.startswith("first-customer"):
                page.goto(f"{base}/customers/?sort=-score")
                page.click("table.table--customers tbody tr:first-child a")
            else:
                page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(700)  # chart animation
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=width > 500)
            print("wrote", name)
        browser.close()


def workbench(base_url: str) -> None:
    """The account managers' workbench (`take.py URL workbench`), after `seed_demo --after-runs`."""
    pages = [
        ("workbench-dashboard", "/"),
        ("workbench-customer", "letter-customer"),
        ("workbench-tasks", "/tasks/"),
        ("workbench-contacts-due", "/contacts/due/"),
    ]
    for suffix, width, height in (("", 1280, 900), ("-phone", 390, 844)):
        named = [(name + suffix, path) for name, path in pages]
        shoot(base_url, named, username="manager1", width=width, height=height, language="en")
        shoot(
            base_url,
            [(f"workbench-prospects{suffix}", "/prospects/")],
            username="admin",
            width=width,
            height=height,
            language="en",
        )


if __name__ == "__main__":
    base_url = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    if sys.argv[2:] == ["workbench"]:
        workbench(base_url)
        sys.exit(0)
    desktop = [
        ("dashboard", "/"),
        ("customers", "/customers/"),
        ("customer", "first-customer"),
        ("notices", "/notices/"),
    ]
    shoot(base_url, desktop, username="manager1", width=1366, height=900, language="zh-hans")
    admin_pages = [("runs-en", "/runs/"), ("customers-en", "/customers/?tier=core&sort=-spend_12m")]
    shoot(base_url, admin_pages, username="admin", width=1366, height=900, language="en")
    phone_pages = [("dashboard-phone", "/"), ("customer-phone", "first-customer")]
    shoot(base_url, phone_pages, username="manager1", width=390, height=844, language="zh-hans")
