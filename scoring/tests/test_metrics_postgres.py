"""The PostgreSQL fast path of metric_table gives exactly what the portable ORM path gives."""

import dataclasses
import datetime
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from core.tests.clock import AS_OF
from crm.models import Customer, Interaction
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory, SurveyFactory, industry
from scoring import metrics
from scoring.metrics import portable as portable_path

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="compares the PostgreSQL path with the portable one"),
]



def portable_table(customers, complaints_window_days=90) -> metrics.MetricTable:
    """What SQLite would give: the ORM path, on this PostgreSQL database."""
    return metrics._metric_table_by(portable_path, customers, AS_OF, complaints_window_days=complaints_window_days)


def assert_tables_equal(fast: metrics.MetricTable, portable: metrics.MetricTable) -> None:
    for item in dataclasses.fields(metrics.MetricTable):
        a, b = getattr(fast, item.name), getattr(portable, item.name)
        if item.name == "metrics":
            assert a.keys() == b.keys()
            for key in a:
                np.testing.assert_allclose(a[key], b[key], err_msg=key)
        elif item.name == "as_of":
            assert a == b
        elif a.dtype == object:
            assert a.tolist() == b.tolist(), item.name
        else:
            np.testing.assert_allclose(a, b, err_msg=item.name)


@pytest.fixture
def population(manager):
    """Customers with data on and around every window edge, and one with nothing at all."""
    start = metrics.window_start(AS_OF)
    strategic = CustomerFactory(account_manager=manager, industry=industry("NEV"), cooperation_since=None)
    rated = CustomerFactory(account_manager=None, potential_rating=7, customer_type="b2c")
    CustomerFactory(account_manager=manager, status=Customer.Status.TERMINATED)  # no data
    for amount, day in [
        ("100.10", start),
        ("250.25", start + datetime.timedelta(days=1)),
        ("999.99", AS_OF),
        ("5.00", AS_OF + datetime.timedelta(days=1)),
    ]:
        OrderFactory(customer=rated, amount=Decimal(amount), ordered_at=day)
    OrderFactory(customer=strategic, amount=Decimal("12345.67"), ordered_at=AS_OF - datetime.timedelta(days=40))
    SurveyFactory(customer=rated, score=Decimal("4.25"), surveyed_at=AS_OF)
    SurveyFactory(customer=rated, score=Decimal("2.00"), surveyed_at=start)  # outside the window
    for kind, days_ago in [
        (Interaction.Kind.COMPLAINT, 10),
        (Interaction.Kind.COMPLAINT, 200),
        (Interaction.Kind.REFERRAL, 5),
        (Interaction.Kind.SOCIAL_SHARE, 364),
    ]:
        InteractionFactory(customer=strategic, kind=kind, occurred_at=AS_OF - datetime.timedelta(days=days_ago))
    customer = Customer.objects.get(pk=rated.pk)
    Customer.objects.filter(pk=customer.pk).update(
        score=Decimal("61.50"), spend_12m=Decimal("800.00"), runs_below_threshold=2
    )
    return Customer.objects.all()


def test_every_customer_gets_the_same_metrics_on_both_paths(population):
    fast = metrics.metric_table(population, AS_OF, complaints_window_days=30)
    portable = portable_table(population, complaints_window_days=30)

    assert len(fast) == 3
    assert_tables_equal(fast, portable)
    rated = int(np.nonzero(fast.metrics["strategic_potential"] == 7.0)[0][0])
    assert fast.metrics["spend_12m"][rated] == pytest.approx(1250.24)
    assert fast.metrics["satisfaction_12m"][rated] == pytest.approx(4.25)


def test_a_subset_leaves_out_customers_inside_its_id_range(population):
    ids = sorted(population.values_list("id", flat=True))
    subset = population.filter(id__in=[ids[0], ids[-1]])  # the middle one sits inside the range

    fast = metrics.metric_table(subset, AS_OF)

    assert fast.customer_ids.tolist() == [ids[0], ids[-1]]
    assert_tables_equal(fast, portable_table(subset))


def test_a_sparse_subset_is_read_by_id_list(population, django_assert_max_num_queries):
    ids = sorted(population.values_list("id", flat=True))
    later = [CustomerFactory(account_manager=None) for _ in range(40)]
    subset = Customer.objects.filter(id__in=[ids[1], later[-1].pk])  # 2 customers over 42 ids

    with django_assert_max_num_queries(1 + 7):  # customers; three aggregates in one transaction
        fast = metrics.metric_table(subset, AS_OF)

    assert fast.customer_ids.tolist() == [ids[1], later[-1].pk]
    assert_tables_equal(fast, portable_table(subset))


def test_an_empty_queryset_gives_an_empty_table(db):
    table = metrics.metric_table(Customer.objects.none(), AS_OF)

    assert len(table) == 0
    assert table.metrics["spend_12m"].shape == (0,)
