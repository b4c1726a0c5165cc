"""The benchmark generator writes valid rows the product can read and extend."""

import datetime

import pytest
from django.db.models import Count, Max, Min, Sum

from bench.generate import generate
from core.tests.clock import AS_OF
from crm.models import Customer, CustomerCodeSequence, Interaction, Order, SatisfactionSurvey
from crm.services import customer_create


@pytest.fixture
def generated(db):
    return generate(customers=600, as_of=AS_OF, seed=1, verbose=False)


def test_counts_match_what_was_written(generated):
    assert Customer.objects.count() == generated.customers == 600
    assert Order.objects.count() == generated.orders
    assert SatisfactionSurvey.objects.count() == generated.surveys
    assert Interaction.objects.count() == generated.interactions
    assert 15 * 600 < generated.orders < 45 * 600  # ~28 per customer (about 10 a year)
    assert generated.managers == 1


def test_orders_span_36_months_up_to_the_as_of_date(generated):
    """Three years, so a backtest a year back has a year of orders before and after its date."""
    span = Order.objects.aggregate(first=Min("ordered_at"), last=Max("ordered_at"))
    assert span["last"] <= AS_OF
    assert AS_OF - datetime.timedelta(days=1096) < span["first"] < AS_OF - datetime.timedelta(days=1000)
    assert not Order.objects.filter(amount__lte=0).exists()


def test_customer_codes_are_unique_and_later_creations_do_not_collide(generated):
    assert Customer.objects.values("code").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert CustomerCodeSequence.objects.exists()
    someone = Customer.objects.order_by("id").first()

    created = customer_create(name="New", industry=someone.industry, customer_type="b2b")

    assert Customer.objects.filter(code=created.code).count() == 1


def test_spend_has_a_long_tail(generated):
    spend = sorted(
        float(total)
        for total in Order.objects.values("customer_id").annotate(total=Sum("amount")).values_list("total", flat=True)
    )
    assert spend[-1] > 10 * spend[len(spend) // 2]


def test_activities_and_tasks_are_those_the_workbench_logs(generated):
    from django.utils import timezone

    from service.models import Task

    assert 8 * 600 < generated.interactions < 12 * 600  # ~10 per customer: 1M at 100,000 customers
    assert Task.objects.count() == generated.tasks and 0.4 * 600 < generated.tasks < 0.8 * 600
    timed = Interaction.objects.filter(kind__in=["visit", "call", "meeting"])
    assert not timed.filter(happened_at__isnull=True).exists() and not timed.filter(recorded_by__isnull=True).exists()
    for activity in timed[:200]:
        local = timezone.localtime(activity.happened_at)
        assert local.date() == activity.occurred_at and 9 <= local.hour < 18
        assert 5 <= activity.duration_minutes <= 120
    assert not Interaction.objects.filter(kind="email", happened_at__isnull=False).exists()
    assert not Interaction.objects.filter(occurred_at__gt=AS_OF).exists()
    for task in Task.objects.select_related("customer")[:200]:
        assert task.owner_id == task.customer.account_manager_id
        assert (task.status == "open") == (task.completed_at is None)
    assert {"open", "done"} <= set(Task.objects.values_list("status", flat=True))
