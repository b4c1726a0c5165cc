"""A database created by the released version migrates forward to this one with its rows intact.

The layout moved code between packages but kept every app label, table and migration; a
deployment's database has recorded the released migrations below, and must need no more than
the migrations added since."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.models import Customer as CurrentCustomer
from tiering.models import TierRun as CurrentTierRun

# The newest migration of each app in the last release before the layout moved.
RELEASED = [
    ("crm", "0007_tier_keys_kept_by_orm"),
    ("scoring", "0003_seed_history"),
    ("tiering", "0011_notice_change_key"),
]


@pytest.mark.django_db
def test_the_released_migrations_are_all_still_here():
    loader = MigrationExecutor(connection).loader
    for app_label, name in RELEASED:
        assert (app_label, name) in loader.graph.nodes, (app_label, name)
        released = {key for key in loader.graph.forwards_plan((app_label, name)) if key[0] == app_label}
        assert len(released) == int(name[:4])  # none renamed or dropped on the way


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the seeded rows for the next tests
def test_a_released_database_migrates_forward_with_its_rows():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        _released_rows_migrate_forward(executor, leaves)
    finally:  # whatever happened, the next tests get the current schema
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)


def _released_rows_migrate_forward(executor, leaves):
    executor.migrate(RELEASED)
    executor.loader.build_graph()
    released_apps = executor.loader.project_state(RELEASED).apps
    Industry = released_apps.get_model("crm", "Industry")
    Customer = released_apps.get_model("crm", "Customer")
    TierRun = released_apps.get_model("tiering", "TierRun")
    industry = Industry.objects.get(code="MFG")
    Customer.objects.create(code="MFG2026901", name="Released Co", industry=industry, customer_type="b2b")
    TierRun.objects.create(period="2026-Q3", as_of=datetime.date(2026, 7, 1), status="succeeded")

    executor = MigrationExecutor(connection)
    executor.migrate(leaves)
    executor.loader.build_graph()
    assert not executor.migration_plan(leaves)

    assert CurrentCustomer.objects.get(code="MFG2026901").name == "Released Co"
    assert CurrentTierRun.objects.filter(period="2026-Q3").exists()
