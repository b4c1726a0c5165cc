"""Take the cases and results screenshots (cases-*.png, results-*.png) from a running demo server.

DEBUG=1 DATABASE_URL=sqlite:////tmp/cases-demo.sqlite3 .venv/bin/python manage.py seed_demo
DEBUG=1 DATABASE_URL=sqlite:////tmp/cases-demo.sqlite3 .venv/bin/python manage.py retier
DEBUG=1 DATABASE_URL=sqlite:////tmp/cases-demo.sqlite3 .venv/bin/python manage.py seed_demo --after-runs
DEBUG=1 DATABASE_URL=sqlite:////tmp/cases-demo.sqlite3 .venv/bin/python manage.py runserver 8792
.venv/bin/python docs/screenshots/take_cases.py http://127.0.0.1:8792
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"]
SIZES = [("", 1280, 900), ("-phone", 390, 844)]


def shoot(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        for suffix, width, height in SIZES:
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1, locale="en-US")
            page.goto(f"{base}/accounts/login/")
            page.fill("input[name=username]", "manager1")
            page.fill("input[name=password]", "manager12345")
            page.click("button[type=submit].btn--primary")
            page.wait_for_url(f"{base}/")
            page.click("button[name=language][value=en]")
            page.wait_for_load_state("networkidle")
            # The open case nearest its deadline: the first of the list.
            page.goto(f"{base}/cases/?status=active")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / f"cases-list{suffix}.png"), full_page=width > 500)
            page.click("table.table--cases tbody tr:first-child a.strong")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / f"cases-case{suffix}.png"), full_page=width > 500)
            page.goto(f"{base}/results/")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(800)  # chart animation
            page.screenshot(path=str(OUT / f"results{suffix}.png"), full_page=width > 500)
            print("wrote", suffix or "desktop")
            page.close()
        browser.close()


if __name__ == "__main__":
    shoot(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
