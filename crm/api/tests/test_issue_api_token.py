from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_prints_a_key_that_authenticates_and_is_stored_hashed(integration_user):
    out = StringIO()
    call_command("issue_api_token", "erp", stdout=out)
    key = out.getvalue().strip()
    token = AuthToken.objects.get(user=integration_user)
    assert key not in token.digest and len(key) >= 32
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/tiers/").status_code == 200
    token.delete()  # revoking in admin deletes the row
    assert client.get("/api/v1/tiers/").status_code == 401


def test_unknown_user_is_a_clear_error():
    with pytest.raises(CommandError, match="nobody"):
        call_command("issue_api_token", "nobody")
