"""GET /api/v1/contact-due/: the customers due for contact under their tier's plan, most overdue first."""

import datetime

import pytest

from crm.tests.factories import CustomerFactory, InteractionFactory
from service.services.contact import contact_status_refresh
from service.tests.factories import TODAY
from tiering.tests.factories import tier

pytestmark = pytest.mark.django_db
URL = "/api/v1/contact-due/"
DAY = datetime.timedelta(days=1)


@pytest.fixture
def due_world(clock, manager, outsider):
    """The manager's VIP visited 10 days ago (3 days overdue), core customer called 25 days ago (due
    in 5 days), ordinary customer called yesterday (due in a year); the outsider's overdue VIP."""
    vip = CustomerFactory(account_manager=manager, tier=tier("vip"), name="VIP Co")
    core = CustomerFactory(account_manager=manager, tier=tier("core"))
    ordinary = CustomerFactory(account_manager=manager, tier=tier("ordinary"))
    foreign = CustomerFactory(account_manager=outsider, tier=tier("vip"))
    InteractionFactory(customer=vip, kind="visit", occurred_at=TODAY - 10 * DAY)
    InteractionFactory(customer=core, kind="call", occurred_at=TODAY - 25 * DAY)
    InteractionFactory(customer=ordinary, kind="call", occurred_at=TODAY - DAY)
    InteractionFactory(customer=foreign, kind="visit", occurred_at=TODAY - 30 * DAY)
    contact_status_refresh(None)
    return {"vip": vip, "core": core, "ordinary": ordinary, "foreign": foreign}


def codes(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["customer"] for row in response.json()["results"]]


def test_a_row_says_who_is_due_when_and_by_how_much(due_world, manager_api):
    vip = due_world["vip"]
    row = manager_api.get(URL, {"state": "overdue"}).json()["results"][0]
    assert row == {
        "customer": vip.code,
        "customer_name": "VIP Co",
        "tier": "vip",
        "tier_name": tier("vip").name,
        "last_contact_on": (TODAY - 10 * DAY).isoformat(),
        "tier_since": vip.created_at.date().isoformat(),
        "due_on": (TODAY - 3 * DAY).isoformat(),
        "days_overdue": 3,
        "account_manager": "manager",
    }


def test_states_and_tiers_filter_the_list_most_overdue_first(due_world, manager_api):
    world = due_world
    assert codes(manager_api.get(URL)) == [world["vip"].code, world["core"].code, world["ordinary"].code]
    assert codes(manager_api.get(URL, {"state": "overdue"})) == [world["vip"].code]
    assert codes(manager_api.get(URL, {"state": "due"})) == [world["vip"].code, world["core"].code]
    assert codes(manager_api.get(URL, {"tier": "core"})) == [world["core"].code]
    days = [row["days_overdue"] for row in manager_api.get(URL).json()["results"]]
    assert days[:2] == [3, -5]


def test_an_account_manager_sees_only_their_own_customers(due_world, outsider_api, admin_api):
    assert codes(outsider_api.get(URL)) == [due_world["foreign"].code]
    assert due_world["foreign"].code in codes(admin_api.get(URL, {"state": "overdue"}))


def test_a_bad_state_is_refused_naming_it(due_world, manager_api):
    response = manager_api.get(URL, {"state": "late"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and "state" in response.json()["error"]["fields"]
