"""One figure per fact, with its date: the customer list, the customer page, the export and the API
show the same stored spend and last order, each with the day it is from, and score and tier with
the run they are from. After orders arrive, all four agree with the orders they show."""

import csv
import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db.models import Sum
from django.urls import reverse

from crm.models import Customer, Order
from crm.services import orders_ingest
from crm.tests.api_clients import client_for
from crm.tests.factories import CustomerFactory
from scoring.metrics import window_start
from tiering.tests.conftest import run_now, strong_customer
from tiering.tests.factories import TierAssignmentFactory, TierRunFactory
from web.tests.conftest import tiered_customer
from web.views import grouped

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 30)
NOON_TODAY = datetime.datetime.combine(TODAY, datetime.time(12), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def export_row(client, code: str) -> dict[str, str]:
    body = b"".join(client.get("/customers/export.csv").streaming_content).decode("utf-8").lstrip("\ufeff")
    return next(row for row in csv.DictReader(io.StringIO(body)) if row["Code"] == code)


def list_row(client, code: str) -> dict:
    rows = client.get("/customers/?sort=name").context["rows"]
    return next(row for row in rows if row["customer"].code == code)


def orders_truth(customer) -> tuple[datetime.date, Decimal]:
    """What the orders say as of today: the newest order's date and the 12-month sum."""
    orders = Order.objects.filter(customer=customer)
    window = orders.filter(ordered_at__gt=window_start(TODAY), ordered_at__lte=TODAY)
    return orders.latest("ordered_at").ordered_at, window.aggregate(total=Sum("amount"))["total"]


@pytest.fixture
def tiered_then_ordered(manager, django_capture_on_commit_callbacks):
    """A customer tiered on 2026-10-01, whose orders of November arrive through the ingest service
    (the re-evaluation they trigger runs at once, as eager Celery does after the commit)."""
    customer = strong_customer(manager)
    Order.objects.create(
        customer=customer,
        amount=Decimal("800.00"),
        ordered_at=datetime.date(2025, 10, 2),
        source="erp",
        external_ref="OLD-1",
    )  # outside the window on TODAY
    run = run_now(datetime.date(2026, 10, 1))
    with time_machine.travel(NOON_TODAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        orders_ingest(
            rows=[
                {
                    "customer": customer.code,
                    "amount": "9068.47",
                    "ordered_at": "2026-11-28",
                    "source": "erp",
                    "external_ref": "NOV-1",
                },
                {
                    "customer": customer.code,
                    "amount": "1200.00",
                    "ordered_at": "2026-11-30",
                    "source": "erp",
                    "external_ref": "NOV-2",
                },
            ],
            user=manager,
        )
    return customer, run


@time_machine.travel(NOON_TODAY, tick=False)
def test_after_orders_arrive_list_detail_export_and_api_agree_with_the_orders(
    tiered_then_ordered, manager, manager_client
):
    customer, _run = tiered_then_ordered
    newest, spend = orders_truth(customer)
    assert newest == TODAY

    row = list_row(manager_client, customer.code)
    assert (row["customer"].last_order_at, row["spend"]) == (newest, grouped(spend))

    detail = manager_client.get(reverse("web:customer-detail", args=[customer.code]))
    assert (detail.context["customer"].last_order_at, detail.context["spend_12m"]) == (newest, grouped(spend))
    assert detail.context["orders"][0][0].ordered_at == newest  # the newest order the page lists
    live_spend = next(r for g in detail.context["breakdown"]["categories"] for r in g["rules"] if "spend" in r["label"])
    assert live_spend["value"] == grouped(spend, 2, trim=True)  # the live table says the same

    exported = export_row(manager_client, customer.code)
    assert (exported["Last order"], Decimal(exported["12-month spend"])) == (newest.isoformat(), spend)

    body = client_for(manager).get(f"/api/v1/customers/{customer.code}/").json()
    assert (body["last_order_at"], Decimal(str(body["spend_12m"]))) == (newest.isoformat(), spend)


@time_machine.travel(NOON_TODAY, tick=False)
def test_after_orders_arrive_every_door_dates_the_figures_today_and_the_score_by_its_run(
    tiered_then_ordered, manager, manager_client
):
    """Needs the re-evaluation to write Customer.figures_as_of with the spend and last order it writes."""
    customer, run = tiered_then_ordered
    assert Customer.objects.get(pk=customer.pk).figures_as_of == TODAY

    assert list_row(manager_client, customer.code)["customer"].figures_as_of == TODAY
    page = manager_client.get(reverse("web:customer-detail", args=[customer.code])).content.decode()
    assert "as of 2026-11-30" in page and "may differ" not in page
    assert f"as of tier run {run.period} (2026-10-01)" in page
    exported = export_row(manager_client, customer.code)
    assert (exported["Figures as of"], exported["Tier run"]) == ("2026-11-30", f"{run.period} (2026-10-01)")
    body = client_for(manager).get(f"/api/v1/customers/{customer.code}/").json()
    assert body["figures_as_of"] == "2026-11-30"
    assert body["tier_run"] == {"period": run.period, "as_of": "2026-10-01"}


@time_machine.travel(NOON_TODAY, tick=False)
def test_a_new_customers_spend_is_not_shown_as_zero_before_it_is_computed(manager, manager_client):
    customer = CustomerFactory(account_manager=manager, name="Fresh Start")
    Order.objects.create(
        customer=customer, amount=Decimal("205000.00"), ordered_at=TODAY, source="erp", external_ref="F-1"
    )  # stored without the service: nothing has computed it yet

    row = list_row(manager_client, customer.code)
    assert row["spend"] is None
    page = manager_client.get(reverse("web:customer-detail", args=[customer.code])).content.decode()
    assert "¥0" not in page and "not computed yet" in page
    assert export_row(manager_client, customer.code)["12-month spend"] == ""


@time_machine.travel(NOON_TODAY, tick=False)
def test_stored_figures_older_than_the_live_table_are_labelled_with_both_dates(manager, manager_client, tiers):
    customer = tiered_customer(
        manager,
        tiers["core"],
        "78.20",
        spend_12m=Decimal("7626.00"),
        last_order_at=datetime.date(2026, 9, 29),
        figures_as_of=datetime.date(2026, 10, 1),
    )
    run = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 10, 1))
    TierAssignmentFactory(run=run, customer=customer, score=Decimal("78.20"), computed_tier=tiers["core"])

    page = manager_client.get(reverse("web:customer-detail", args=[customer.code])).content.decode()

    compact = " ".join(page.split())
    assert "as of tier run 2026-Q4 (2026-10-01)" in compact  # score and tier
    assert "¥7,626" in compact and "as of 2026-10-01" in compact  # the stored spend, with its day
    assert "as of 2026-11-30" in compact  # the live table, with its own
    assert "The values below are as of 2026-11-30; the profile's 12-month spend is as of 2026-10-01" in compact

    row = list_row(manager_client, customer.code)
    assert (str(row["tier_run"]), row["customer"].figures_as_of) == ("2026-Q4 (2026-10-01)", datetime.date(2026, 10, 1))
    body = manager_client.get("/customers/?sort=name").content.decode()
    assert "2026-Q4" in body and "as of 2026-10-01" in body


def test_the_list_reads_the_runs_of_a_page_in_a_fixed_number_of_queries(
    admin_client_logged, tiers, django_assert_max_num_queries
):
    run = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 10, 1))
    for n in range(30):
        customer = tiered_customer(None, tiers["core"], "80.00", figures_as_of=datetime.date(2026, 10, 1))
        if n % 2:
            TierAssignmentFactory(run=run, customer=customer, computed_tier=tiers["core"])
    with django_assert_max_num_queries(14):  # + the contact plan columns and the open-task count
        response = admin_client_logged.get("/customers/")
    assert sum(1 for row in response.context["rows"] if row["tier_run"]) > 0
