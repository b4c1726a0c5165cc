import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from core import crypto
from crm.models import Customer

TAX_ID = "91310000MA1FL1234X"


def _stored(customer, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM crm_customer WHERE id = %s", [customer.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_round_trip():
    token = crypto.encrypt("6222 0202 0011 2233")
    assert token != "6222 0202 0011 2233"
    assert crypto.decrypt(token) == "6222 0202 0011 2233"


@pytest.mark.parametrize(("clear", "masked"), [
    (TAX_ID, "**************234X"), ("1234", "****"), ("12", "**"), ("", ""), (None, ""),
])
def test_mask_keeps_last_four(clear, masked):
    assert crypto.mask(clear) == masked


@pytest.mark.django_db
def test_field_is_ciphertext_in_database_and_clear_in_python(customer):
    customer.tax_id = TAX_ID
    customer.save()
    stored = _stored(customer, "tax_id")
    assert TAX_ID not in stored
    assert Customer.objects.get(pk=customer.pk).tax_id == TAX_ID


@pytest.mark.django_db
def test_empty_value_stays_empty(customer):
    customer.bank_account = ""
    customer.save()
    assert _stored(customer, "bank_account") == ""


def test_wrong_key_fails_loudly(settings):
    token = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(token)


def test_malformed_key_fails_loudly(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


@pytest.mark.django_db
def test_key_rotation_keeps_values_readable(settings, customer):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    customer.tax_id, customer.bank_account = TAX_ID, "6222020200112233445"
    customer.save()
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert Customer.objects.get(pk=customer.pk).tax_id == TAX_ID  # old data readable during rotation

    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "1 customers" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # old key dropped: everything still decrypts
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.tax_id, fresh.bank_account) == (TAX_ID, "6222020200112233445")
