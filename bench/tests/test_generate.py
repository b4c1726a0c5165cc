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
    assert 10 * 600 < generated.orders < 30 * 600  # ~19 per customer
    assert generated.managers == 1


def test_orders_span_24_months_up_to_the_as_of_date(generated):
    span = Order.objects.aggregate(first=Min("ordered_at"), last=Max("ordered_at"))
    assert span["last"] <= AS_OF
    assert span["first"] > AS_OF - datetime.timedelta(days=731)
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
