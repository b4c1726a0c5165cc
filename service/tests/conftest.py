"""The service tests' clock and cast: the root conftest's users, customers in a tier, a pinned "now"."""

import pytest
import time_machine

from crm.tests.factories import CustomerFactory
from service.tests.factories import NOW
from tiering.tests.factories import tier


@pytest.fixture
def clock():
    """Pinned to service.tests.factories.NOW (10:00 on 2026-10-11 in the business time zone)."""
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def vip_customer(manager):
    return CustomerFactory(account_manager=manager, tier=tier("vip"))


@pytest.fixture
def outsiders_customer(outsider):
    return CustomerFactory(account_manager=outsider, tier=tier("vip"), name="Outsider's customer")
