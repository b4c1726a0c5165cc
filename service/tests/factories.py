"""Factories for the service side's rows (tasks), for tests that need them without the services."""

import datetime
import zoneinfo

import factory
from django.conf import settings

from crm.tests.factories import CustomerFactory
from service.models import Task

# The moment service tests pin the clock to: ten days after the suite's quarterly run (core.tests.clock).
NOW = datetime.datetime(2026, 10, 11, 10, 0, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
TODAY = NOW.date()


class TaskFactory(factory.django.DjangoModelFactory):
    """An open follow-up for the customer's account manager, due tomorrow."""

    class Meta:
        model = Task

    customer = factory.SubFactory(CustomerFactory)
    title = factory.Sequence(lambda n: f"Follow-up {n}")
    owner = factory.SelfAttribute("customer.account_manager")
    due_at = NOW + datetime.timedelta(days=1)
