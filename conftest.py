"""The small cast every test uses: an admin, a manager who owns customers, an outsider manager, an
integration account, and API clients with real tokens for each."""

import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection

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


# --- what CI demands of a phase (set by .ci/test.sh) ------------------------------------------------
# TEST_FORBID_SKIPS=1: any skipped test fails the run (the PostgreSQL + Redis phase: every test that
#   needs those services must run there, so a guarantee cannot pass by being skipped).
# TEST_DATABASE_VENDOR=postgresql: the run stops at once unless the tests really use that database.
# TEST_LIST_DESELECTED=1: the summary names every test the marker expression left out.

_deselected: list[str] = []


def pytest_sessionstart(session):
    wanted = os.environ.get("TEST_DATABASE_VENDOR")
    if wanted:
        vendor = connection.vendor
        if vendor != wanted:
            pytest.exit(f"this phase must run on {wanted}, but the tests' database is {vendor}", returncode=1)


def pytest_collection_modifyitems(config, items):
    """Tests marked `production` need the production settings: with any other settings module
    they are deselected (and named when TEST_LIST_DESELECTED is set), never skipped."""
    if settings.SETTINGS_MODULE == "config.settings":
        return
    production = [item for item in items if item.get_closest_marker("production")]
    if production:
        items[:] = [item for item in items if not item.get_closest_marker("production")]
        config.hook.pytest_deselected(items=production)


def pytest_deselected(items):
    _deselected.extend(item.nodeid for item in items)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if os.environ.get("TEST_LIST_DESELECTED") == "1" and _deselected:
        terminalreporter.section(f"{len(_deselected)} deselected (run in a later phase of make test)")
        for nodeid in sorted(_deselected):
            terminalreporter.line(nodeid)
    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("TEST_FORBID_SKIPS") == "1" and skipped:
        terminalreporter.section(f"{len(skipped)} skipped: not allowed in this phase", red=True)
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            terminalreporter.line(f"{report.nodeid}: {reason}")
    # pytest-randomly shuffles the tests; its header line is hidden by -q, so the seed is printed
    # here, next to the failures, with the option that runs the same order again.
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.getoption("randomly_reorganize", True):
        terminalreporter.write_sep("-", f"random order, seed {seed}: repeat with --randomly-seed={seed}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("TEST_FORBID_SKIPS") == "1" and skipped and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
