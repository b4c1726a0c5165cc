"""Security guarantees checked with the production settings as deployed (config.settings, DEBUG=0),
not the test overrides: `make test` runs this module in a phase of its own with production
environment values; every other phase leaves it out (conftest.py)."""

import datetime
import time

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.settings import api_settings

from crm.tests.api_clients import client_for

pytestmark = [pytest.mark.production, pytest.mark.django_db]

LOGIN = "/accounts/login/"


def test_this_phase_runs_the_production_settings():
    assert settings.SETTINGS_MODULE == "config.settings"
    assert settings.DEBUG is False
    assert settings.AXES_ENABLED is True
    assert settings.SECURE_SSL_REDIRECT is True


def test_check_deploy_reports_nothing():
    call_command("check", deploy=True, fail_level="DEBUG")


def _fail(client, username, address):
    return client.post(LOGIN, {"username": username, "password": "wrong"}, REMOTE_ADDR=address, secure=True)


def _login(client, username, address):
    return client.post(LOGIN, {"username": username, "password": "pass12345"}, REMOTE_ADDR=address, secure=True)


def test_lockout_per_username_and_address_with_its_cool_off(client, manager):
    start = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        assert settings.AXES_FAILURE_LIMIT == 5
        for _attempt in range(4):
            assert _fail(client, "manager", "10.0.0.9").status_code == 200
        assert _fail(client, "manager", "10.0.0.9").status_code == 429  # the fifth failure locks
        locked = _login(client, "manager", "10.0.0.9")  # even with the right password
        assert locked.status_code == 429
        assert "_auth_user_id" not in client.session
        # Another address is not affected by this address's failures.
        other = _login(client, "manager", "10.0.0.10")
        assert other.status_code == 302
        client.logout()
    cool_off = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    assert cool_off == datetime.timedelta(minutes=15)
    probe = start + cool_off - datetime.timedelta(minutes=1)
    with time_machine.travel(probe, tick=False):
        assert _login(client, "manager", "10.0.0.9").status_code == 429
    # An attempt during the lockout starts the cool-off again (axes' default), so count from it.
    with time_machine.travel(probe + cool_off + datetime.timedelta(minutes=1), tick=False):
        assert _login(client, "manager", "10.0.0.9").status_code == 302


def test_api_throttle_uses_the_real_rate_and_says_when_to_retry(manager):
    cache.clear()
    rate = api_settings.DEFAULT_THROTTLE_RATES["user"]
    assert rate == "6000/min"
    allowed = int(rate.split("/")[0])
    api = client_for(manager)
    token_key = api._credentials["HTTP_AUTHORIZATION"].split()[1][:15]
    # The history the throttle keeps for this token: one request short of the rate in this minute.
    now = time.time()
    cache.set(f"throttle_user_token-{token_key}", [now] * (allowed - 1), 60)
    assert api.get("/api/v1/industries/", secure=True).status_code == 200
    refused = api.get("/api/v1/industries/", secure=True)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0


def test_real_responses_carry_hsts_csp_and_secure_cookies(client, manager):
    assert client.get(LOGIN).status_code == 301  # plain HTTP goes to HTTPS
    page = client.get(LOGIN, secure=True)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.cookies["csrftoken"]["secure"]
    response = _login(client, "manager", "10.0.0.20")
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"]
