import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from crm.models import Customer, Industry, Interaction, Order, SatisfactionSurvey
from crm.services import customer_code_next


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass12345")


def industry(code: str = "MFG") -> Industry:
    """Industries are seeded by migration; tests pick them by code."""
    return Industry.objects.get(code=code)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    industry = factory.LazyFunction(lambda: industry("MFG"))
    customer_type = "b2b"
    region = "华东"
    cooperation_since = datetime.date(2023, 1, 1)
    account_manager = factory.SubFactory(UserFactory)
    code = factory.LazyAttribute(lambda c: customer_code_next(industry=c.industry, year=2026))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    amount = Decimal("1000.00")
    ordered_at = datetime.date(2026, 6, 1)
    source = "erp"
    external_ref = factory.Sequence(lambda n: f"SO{n:08d}")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    kind = Interaction.Kind.VISIT
    occurred_at = datetime.date(2026, 6, 1)


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SatisfactionSurvey

    customer = factory.SubFactory(CustomerFactory)
    score = Decimal("4.50")
    surveyed_at = datetime.date(2026, 6, 1)
    channel = "email"
