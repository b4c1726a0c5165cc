import datetime
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.tests.clock import AS_OF
from crm.models import Customer, Interaction
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory, SurveyFactory, industry
from scoring.metrics import METRIC_CHOICES, METRICS, metric_table, window_start

DAY = datetime.timedelta(days=1)


def table_for(*customers):
    return metric_table(Customer.objects.filter(pk__in=[c.pk for c in customers]), AS_OF)


def test_registry_offers_the_default_and_the_optional_metrics():
    assert {
        "spend_12m",
        "orders_12m",
        "avg_order_value_12m",
        "tenure_years",
        "satisfaction_12m",
        "strategic_potential",
        "referrals_12m",
        "complaints_12m",
        "recency_days",
        "social_shares_12m",
    } <= set(METRICS)
    assert len(METRIC_CHOICES) == len(METRICS)


def test_window_is_the_365_days_up_to_and_including_the_as_of_date(db):
    customer = CustomerFactory()
    OrderFactory(customer=customer, amount=Decimal("100"), ordered_at=AS_OF)  # included
    OrderFactory(customer=customer, amount=Decimal("200"), ordered_at=window_start(AS_OF) + DAY)  # included
    OrderFactory(customer=customer, amount=Decimal("400"), ordered_at=AS_OF - datetime.timedelta(days=365))  # out
    OrderFactory(customer=customer, amount=Decimal("800"), ordered_at=AS_OF + DAY)  # future: out

    metrics = table_for(customer).metrics
    assert metrics["spend_12m"].tolist() == [300]
    assert metrics["orders_12m"].tolist() == [2]
    assert metrics["avg_order_value_12m"].tolist() == [150]
    assert metrics["recency_days"].tolist() == [0]


def test_no_data_gives_zero_orders_no_survey_and_no_recency(db):
    customer = CustomerFactory(cooperation_since=None, potential_rating=None)
    metrics = table_for(customer).metrics
    assert metrics["spend_12m"][0] == 0 and metrics["orders_12m"][0] == 0
    assert metrics["avg_order_value_12m"][0] == 0
    assert np.isnan(metrics["satisfaction_12m"][0])  # the rule's missing value (3) applies
    assert np.isnan(metrics["recency_days"][0])
    assert metrics["tenure_years"][0] == 0 and metrics["strategic_potential"][0] == 0


def test_tenure_satisfaction_and_strategic_potential(db):
    strategic = CustomerFactory(industry=industry("NEV"), cooperation_since=AS_OF - datetime.timedelta(days=1461))
    rated = CustomerFactory(potential_rating=7)
    SurveyFactory(customer=strategic, score=Decimal("4"), surveyed_at=AS_OF)
    SurveyFactory(customer=strategic, score=Decimal("5"), surveyed_at=AS_OF - 10 * DAY)
    SurveyFactory(customer=strategic, score=Decimal("1"), surveyed_at=AS_OF - datetime.timedelta(days=365))  # out

    metrics = table_for(strategic, rated).metrics
    assert metrics["tenure_years"][0] == pytest.approx(4.0)
    assert metrics["satisfaction_12m"][0] == pytest.approx(4.5)
    assert metrics["strategic_potential"].tolist() == [10, 7]


def test_interactions_are_counted_by_kind(db):
    customer = CustomerFactory()
    for kind in [
        Interaction.Kind.REFERRAL,
        Interaction.Kind.REFERRAL,
        Interaction.Kind.COMPLAINT,
        Interaction.Kind.SOCIAL_SHARE,
        Interaction.Kind.VISIT,
    ]:
        InteractionFactory(customer=customer, kind=kind, occurred_at=AS_OF - DAY)
    InteractionFactory(customer=customer, kind=Interaction.Kind.REFERRAL, occurred_at=window_start(AS_OF))  # out

    metrics = table_for(customer).metrics
    assert (metrics["referrals_12m"][0], metrics["complaints_12m"][0], metrics["social_shares_12m"][0]) == (2, 1, 1)


def make_customers(count):
    customers = CustomerFactory.create_batch(count)
    for customer in customers:
        OrderFactory(customer=customer, ordered_at=AS_OF)
        SurveyFactory(customer=customer, surveyed_at=AS_OF)
        InteractionFactory(customer=customer, kind=Interaction.Kind.REFERRAL, occurred_at=AS_OF)
    return customers


def test_queries_do_not_grow_with_the_number_of_customers(db, django_assert_max_num_queries):
    """One query per metric family (customers, orders, surveys, interactions), whatever the count.
    PostgreSQL's path adds a few fixed statements (savepoint, planner settings)."""
    counts = []
    for size in (5, 50):
        Customer.objects.all().delete()
        make_customers(size)
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(10):
            table = metric_table(Customer.objects.all(), AS_OF)
        assert len(table) == size
        assert table.metrics["referrals_12m"].tolist() == [1] * size
        counts.append(len(queries))
    assert counts[0] == counts[1]
