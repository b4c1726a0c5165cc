"""The due list, the task lists and the dashboard's plan cards run a fixed number of queries
whatever the number of customers: measured with 3 customers, then held to with 30."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer
from crm.tests.factories import CustomerFactory, InteractionFactory
from service import selectors
from service.models import ContactStatus
from service.services.contact import contact_status_refresh, contact_status_refresh_moved
from service.tests.factories import NOW, TODAY, TaskFactory
from tiering.tests.factories import tier

pytestmark = pytest.mark.django_db
TIERS = ["vip", "core", "potential", "ordinary", "dormant"]


def customers_add(manager, count: int) -> None:
    """`count` more customers of the manager, in every tier, each with an activity and two tasks."""
    for n in range(count):
        customer = CustomerFactory(account_manager=manager, tier=tier(TIERS[n % len(TIERS)]))
        InteractionFactory(customer=customer, kind="call", occurred_at=TODAY - datetime.timedelta(days=40 + n))
        TaskFactory(customer=customer, due_at=NOW - datetime.timedelta(days=1), contact_kind="call")
        TaskFactory(customer=customer, due_at=NOW + datetime.timedelta(days=n))
    contact_status_refresh(None)


def surfaces(manager, manager_api, admin_api):
    """Each surface as a callable that reads everything it shows (rows, nested relations)."""
    return {
        "GET /api/v1/contact-due/ (manager)": lambda: manager_api.get("/api/v1/contact-due/?state=overdue").json(),
        "GET /api/v1/contact-due/ (admin)": lambda: admin_api.get("/api/v1/contact-due/?page_size=500").json(),
        "GET /api/v1/tasks/ (manager)": lambda: manager_api.get("/api/v1/tasks/?owner=me&status=open").json(),
        "GET /api/v1/tasks/ (admin)": lambda: admin_api.get("/api/v1/tasks/?page_size=500").json(),
        "GET /api/v1/activities/ (manager)": lambda: manager_api.get("/api/v1/activities/").json(),
        "due list selector": lambda: [
            (row.customer.code, row.customer.account_manager, row.tier.name) for row in selectors.contact_due(manager)
        ],
        "my open tasks selector": lambda: [
            (task.customer.code, task.customer.tier) for task in selectors.my_open_tasks(manager)
        ],
        "task bucket counts": lambda: selectors.task_bucket_counts(manager),
        "dashboard plan cards": lambda: [
            (card.tier.name, card.plan, card.customers, card.overdue) for card in selectors.contact_plan_cards(manager)
        ],
    }


def _queries(read) -> int:
    with CaptureQueriesContext(connection) as captured:
        read()
    return len(captured)


def test_the_lists_and_cards_cost_the_same_queries_for_3_or_30_customers(
    clock, manager, manager_api, admin_api, django_assert_max_num_queries
):
    customers_add(manager, 3)
    reads = surfaces(manager, manager_api, admin_api)
    for read in reads.values():
        read()  # warm: permissions and content types are cached per user and process
    with_three = {name: _queries(read) for name, read in reads.items()}

    customers_add(manager, 27)

    for name, read in reads.items():
        with django_assert_max_num_queries(with_three[name]):
            result = read()
        assert result, name
    assert len(selectors.contact_due(manager)) == 30


def test_refreshing_the_statuses_costs_the_same_queries_for_3_or_30_customers(
    clock, manager, django_assert_max_num_queries
):
    def everyone_moves_and_refresh():
        Customer.objects.update(tier=tier("core"))  # as a run that moved every tier
        return contact_status_refresh_moved()

    customers_add(manager, 3)
    with CaptureQueriesContext(connection) as with_three:
        assert everyone_moves_and_refresh() > 0
    customers_add(manager, 27)  # in every tier, with their statuses
    moving = ContactStatus.objects.exclude(tier=tier("core")).count()

    with django_assert_max_num_queries(len(with_three)):
        assert everyone_moves_and_refresh() == moving > 20
    assert ContactStatus.objects.filter(tier=tier("core")).count() == 30
