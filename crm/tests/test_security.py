"""Hardening a user (or an attacker) would notice: deploy checks, headers, login throttling,
API tokens that are hashed and revocable, and sensitive fields that are never shown in clear."""

import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from openpyxl import load_workbook

from core import crypto
from core.api.parsers import BodyTooLarge, LimitedJSONParser
from crm.models import Interaction, Order
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
    instance, token = AuthToken.objects.create(user=manager)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    # Only the 15-character lookup prefix of the key is kept, beside its SHA-512 digest (README).
    assert all(token[start : start + 16] not in stored for start in range(len(token) - 15))
    assert instance.token_key == token[:15] and token[:15] in stored
    assert instance.digest == hashlib.sha512(token.encode()).hexdigest() and instance.digest in stored

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


@pytest.mark.django_db
def test_a_token_deleted_in_admin_stops_working_at_once(client, admin_user, manager, customer):
    """README: revoking is deleting the token in admin (Knox > Auth tokens), whose list shows no key."""
    instance, token = AuthToken.objects.create(user=manager)
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    url = reverse("api:customer-detail", kwargs={"code": customer.code})
    assert api.get(url).status_code == 200
    client.force_login(admin_user)
    listed = client.get(reverse("admin:knox_authtoken_changelist"))
    assert listed.status_code == 200 and token not in listed.content.decode()

    deleted = client.post(reverse("admin:knox_authtoken_delete", args=[instance.pk]), {"post": "yes"})

    assert deleted.status_code == 302 and not AuthToken.objects.filter(pk=instance.pk).exists()
    assert api.get(url).status_code == 401


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


# --- request-body limit: one cap, 8 MB (README; settings.DATA_UPLOAD_MAX_MEMORY_SIZE) --------------

MB = 1024 * 1024
BODY_LIMIT = 8 * MB
TOO_LARGE_MESSAGE = "The request body is larger than the limit of 8 MB (8388608 bytes)."


def padded(text: str, size: int) -> bytes:
    """`text` (a JSON document) made exactly `size` bytes with trailing whitespace: still valid JSON."""
    assert len(text) <= size
    return (text + " " * (size - len(text))).encode()


def interactions_body(customer, size: int) -> bytes:
    """A valid batch of interactions whose notes are as long as allowed (10,000 characters)."""
    row = {"customer": customer.code, "kind": "visit", "occurred_at": "2026-06-01", "note": "n" * 10_000}
    rows = size // (len(json.dumps(row)) + 2)
    return padded(json.dumps([row] * rows), size)


def orders_body(customer, size: int) -> bytes:
    """A valid batch of 10,000 orders (the most one request may hold), pretty-printed and padded."""
    rows = [
        {
            "customer": customer.code,
            "amount": "10.00",
            "ordered_at": "2026-06-01",
            "source": "erp",
            "external_ref": f"SO-{n}",
        }
        for n in range(10_000)
    ]
    return padded(json.dumps(rows, indent=2), size)


def post_body(api, url: str, body: bytes):
    return api.generic("POST", url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def test_the_documented_body_limit_is_the_setting(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == BODY_LIMIT
    readme = (BASE_DIR / "README.md").read_text()
    assert re.findall(r"(?:capped at|`413` body over) (\d+) MB", readme) == ["8", "8"]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [9 * MB, 17 * MB, BODY_LIMIT + 1], ids=["9MB", "17MB", "limit+1"])
@pytest.mark.parametrize(
    ("url", "build"),
    [("/api/v1/orders/", orders_body), ("/api/v1/interactions/", interactions_body)],
    ids=["orders", "interactions"],
)
def test_a_valid_body_over_the_limit_is_a_json_413_naming_the_limit(integration_api, customer, url, build, size):
    body = build(customer, size)
    json.loads(body)  # the batch itself is valid: only its size is refused

    response = post_body(integration_api, url, body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {"code": "body_too_large", "message": TOO_LARGE_MESSAGE, "fields": {}, "limit_bytes": BODY_LIMIT}
    }
    assert not Interaction.objects.exists() and not Order.objects.exists()


@pytest.mark.django_db
def test_a_valid_body_of_exactly_the_limit_is_stored(integration_api, customer):
    body = interactions_body(customer, BODY_LIMIT)

    response = post_body(integration_api, "/api/v1/interactions/", body)

    assert response.status_code == 201, response.content[:300]
    assert Interaction.objects.filter(customer=customer).count() == response.json()["created"] > 800


@pytest.mark.django_db
def test_a_body_at_the_limit_is_refused_only_for_its_content(integration_api, customer):
    row = {"customer": customer.code, "kind": "visit", "occurred_at": "2026-06-01", "note": "n" * 10_001}
    body = padded(json.dumps([row]), BODY_LIMIT)

    response = post_body(integration_api, "/api/v1/interactions/", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_batch"
    assert response.json()["error"]["fields"]["rows"] == [
        {"index": 0, "field": "note", "message": "At most 10000 characters are allowed."}
    ]


def test_the_parser_keeps_the_same_limit_on_a_stream_it_reads_itself(settings):
    """DRF hands the parser Django's already-capped request.body today; should it pass the raw
    stream again, the parser still refuses what is over the limit (and only when there is one)."""
    over = b" " * BODY_LIMIT + b"[]"
    with pytest.raises(BodyTooLarge) as refused:
        LimitedJSONParser().parse(io.BytesIO(over), "application/json", {})
    assert refused.value.status_code == 413
    assert refused.value.get_codes() == "body_too_large"
    assert LimitedJSONParser().parse(io.BytesIO(padded("[]", BODY_LIMIT)), "application/json", {}) == []
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None  # Django's way of lifting the cap
    assert LimitedJSONParser().parse(io.BytesIO(over), "application/json", {}) == []


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


@pytest.mark.django_db
@pytest.mark.parametrize("export", ["web:customer-export-csv", "web:customer-export-xlsx"])
def test_exports_leave_sensitive_fields_out_even_for_users_who_may_see_them(
    client, admin_user, sensitive_customer, export
):
    """An administrator sees the clear values on the customer's page; the exports still carry
    neither those nor the masked ones: they are not columns at all."""
    client.force_login(admin_user)
    detail = client.get(reverse("web:customer-detail", kwargs={"code": sensitive_customer.code}))
    assert TAX_ID in detail.content.decode()

    response = client.get(reverse(export))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if export.endswith("xlsx"):
        sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
        body = " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row).encode()

    assert response.status_code == 200 and sensitive_customer.code.encode() in body
    for value in (TAX_ID, BANK_ACCOUNT, crypto.mask(TAX_ID), crypto.mask(BANK_ACCOUNT)):
        assert value.encode() not in body
