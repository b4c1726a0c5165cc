"""The small cast every test uses: an admin, a manager who owns customers, an outsider manager, an
integration account, and API clients with real tokens for each."""

import pytest
from django.contrib.auth.models import Group

from crm.tests.api_clients import client_for
from crm.tests.factories import CustomerFactory, UserFactory


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def manager(db):
    user = UserFactory(username="manager")
    user.groups.add(Group.objects.get_or_create(name="Account managers")[0])
    return user


@pytest.fixture
def outsider(db):
    """Another account manager: every permission test checks this user sees nothing of manager's."""
    user = UserFactory(username="outsider")
    user.groups.add(Group.objects.get_or_create(name="Account managers")[0])
    return user


@pytest.fixture
def customer(manager):
    return CustomerFactory(account_manager=manager)


@pytest.fixture
def api_client_for(db):
    return client_for


@pytest.fixture
def integration_user(db):
    """An ERP/BI account: sees every customer, pushes data, starts runs, never edits rules."""
    user = UserFactory(username="erp")
    user.groups.add(Group.objects.get(name="Integrations"))
    return user


@pytest.fixture
def admin_api(admin_user):
    return client_for(admin_user)


@pytest.fixture
def manager_api(manager):
    return client_for(manager)


@pytest.fixture
def outsider_api(outsider):
    return client_for(outsider)


@pytest.fixture
def integration_api(integration_user):
    return client_for(integration_user)
