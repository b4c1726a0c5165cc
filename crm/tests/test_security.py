"""Hardening a user (or an attacker) would notice: deploy checks, headers, login throttling,
API tokens that are hashed and revocable, and sensitive fields that are never shown in clear."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.urls import reverse
from knox.models import AuthToken
from openpyxl import load_workbook

from crm.tests.factories import CustomerFactory, UserFactory

BASE_DIR = Path(__file__).resolve().parents[2]
TAX_ID = "91310000MA1FL1234X"
BANK_ACCOUNT = "6222020200112233445"


def _production_env(**extra) -> dict:
    # The production defaults, whatever the caller's shell overrides (a benchmark turns HTTPS off).
    overrides = ("DJANGO_", "DEBUG", "AXES_", "SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(overrides)}
    env.update(
        DEBUG="0",
        SECRET_KEY=Fernet.generate_key().decode() * 2,  # 88 random characters, as check --deploy wants
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="crm.example.com",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="sqlite:////tmp/crm-check-deploy.sqlite3",
        **extra,
    )
    return env


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_secrets(missing):
    env = _production_env()
    env.pop(missing)

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode != 0 and missing in result.stderr


@pytest.mark.django_db
def test_pages_carry_csp_allowing_only_our_own_origin_and_anti_framing_headers(client):
    response = client.get(reverse("login"))

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "http" not in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_login_is_locked_after_repeated_failures_even_with_the_right_password(client, manager, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    url = reverse("login")

    for _attempt in range(5):
        client.post(url, {"username": "manager", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    locked = client.post(url, {"username": "manager", "password": "pass12345"}, REMOTE_ADDR="10.0.0.9")

    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_is_throttled_too(client, admin_user, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    url = reverse("admin:login")

    for _attempt in range(3):
        client.post(url, {"username": "admin", "password": "guess"}, REMOTE_ADDR="10.0.0.7")
    locked = client.post(url, {"username": "admin", "password": "pass12345"}, REMOTE_ADDR="10.0.0.7")

    assert locked.status_code == 429


@pytest.mark.django_db
def test_api_tokens_are_stored_hashed_and_never_logged(client, manager, customer, caplog):
    _instance, token = AuthToken.objects.create(user=manager)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert token not in stored

    with caplog.at_level(logging.DEBUG):
        ok = client.get(reverse("api:customer-list"), HTTP_AUTHORIZATION=f"Token {token}")
        client.get(reverse("api:customer-list"), HTTP_AUTHORIZATION=f"Token {token}x")
    assert ok.status_code == 200
    assert token not in caplog.text


@pytest.mark.django_db
def test_a_revoked_token_no_longer_works(client, manager, customer):
    instance, token = AuthToken.objects.create(user=manager)
    url = reverse("api:customer-detail", kwargs={"code": customer.code})
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200

    instance.delete()

    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


@pytest.fixture
def sensitive_customer(manager):
    return CustomerFactory(account_manager=manager, tax_id=TAX_ID, bank_account=BANK_ACCOUNT)


@pytest.mark.django_db
def test_sensitive_fields_are_ciphertext_in_every_raw_column(sensitive_customer):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM crm_customer WHERE id = %s", [sensitive_customer.pk])
        raw = " ".join(str(value) for value in cursor.fetchone())
    assert TAX_ID not in raw and BANK_ACCOUNT not in raw
    assert TAX_ID[-4:] not in raw  # not even the masked tail leaks into another column


@pytest.mark.django_db
def test_api_masks_sensitive_fields_unless_permitted(client, manager, sensitive_customer):
    client.force_login(manager)
    url = reverse("api:customer-detail", kwargs={"code": sensitive_customer.code})

    masked = client.get(url).json()
    manager.user_permissions.add(Permission.objects.get(codename="view_sensitive_fields"))
    manager = type(manager).objects.get(pk=manager.pk)
    client.force_login(manager)
    clear = client.get(url).json()

    assert masked["tax_id"] == "**************234X" and masked["bank_account"].endswith("3445")
    assert BANK_ACCOUNT not in str(masked) and TAX_ID not in str(masked)
    assert (clear["tax_id"], clear["bank_account"]) == (TAX_ID, BANK_ACCOUNT)


@pytest.mark.django_db
def test_api_list_never_shows_clear_sensitive_values(client, manager, sensitive_customer):
    client.force_login(manager)

    body = client.get(reverse("api:customer-list")).content.decode()

    assert sensitive_customer.code in body
    assert TAX_ID not in body and BANK_ACCOUNT not in body


@pytest.mark.django_db
def test_admin_change_page_masks_sensitive_fields_for_users_without_the_permission(client, sensitive_customer):
    tier_admin = UserFactory(username="tieradmin", is_staff=True)
    tier_admin.groups.add(Group.objects.get(name="Tier administrators"))
    client.force_login(tier_admin)

    page = client.get(reverse("admin:crm_customer_change", args=[sensitive_customer.pk])).content.decode()

    assert TAX_ID not in page and BANK_ACCOUNT not in page
    assert "234X" in page


@pytest.mark.django_db
def test_creating_and_importing_customers_never_logs_sensitive_values(caplog, manager):
    from crm.imports import customers_import
    from crm.services import customer_create

    with caplog.at_level(logging.DEBUG):
        customer_create(name="Acme", industry="MFG", customer_type="b2b", account_manager=manager, tax_id=TAX_ID)
        customers_import(
            data=f"name,industry,customer_type,bank_account\nBeta,MFG,b2b,{BANK_ACCOUNT}\n".encode(), filename="c.csv"
        )

    assert TAX_ID not in caplog.text and BANK_ACCOUNT not in caplog.text


@pytest.mark.django_db
def test_an_oversized_request_body_is_refused_with_400_not_500(client, admin_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client.force_login(admin_user)

    response = client.post(reverse("api:orders"), "[" + ",".join(["{}"] * 2000) + "]", content_type="application/json")

    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["web:customer-list", "web:customer-export-csv", "web:customer-export-xlsx", "detail"])
def test_web_pages_and_exports_never_show_clear_sensitive_values(client, manager, sensitive_customer, page):
    client.force_login(manager)
    url = (
        reverse("web:customer-detail", kwargs={"code": sensitive_customer.code}) if page == "detail" else reverse(page)
    )

    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if page.endswith("xlsx"):  # compressed: read the cells
        sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
        body = " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row).encode()
        assert sensitive_customer.code.encode() in body

    assert response.status_code == 200
    assert TAX_ID.encode() not in body and BANK_ACCOUNT.encode() not in body
