"""API clients authenticated with real knox tokens, and the users behind them."""

import pytest
from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from crm.tests.factories import UserFactory


def client_for(user) -> APIClient:
    _instance, key = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


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
