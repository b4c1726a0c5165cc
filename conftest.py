"""The small cast every test uses: an admin, a manager who owns customers, and an outsider manager."""

import pytest
from django.contrib.auth.models import Group

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
