"""API clients authenticated with real knox tokens."""

from knox.models import AuthToken
from rest_framework.test import APIClient


def client_for(user) -> APIClient:
    _instance, key = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client
