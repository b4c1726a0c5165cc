"""Fixtures for scoring tests: the seeded default profile as editable rule dicts."""


import pytest
from django.utils import translation

from core.tests.clock import AS_OF
from scoring.models import ScoringProfile


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the product's default language (zh-hans) is tested on its own."""
    with translation.override("en"):
        yield


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def as_of():
    return AS_OF


@pytest.fixture
def default_profile(db):
    return ScoringProfile.objects.get(is_default=True)


def rules_as_dicts(profile) -> list[dict]:
    return [
        {
            "metric": rule.metric,
            "category": rule.category,
            "weight": rule.weight,
            "normalisation": rule.normalisation,
            "floor": rule.floor,
            "cap": rule.cap,
            "bands": rule.bands,
            "direction": rule.direction,
            "missing_value": rule.missing_value,
        }
        for rule in profile.rules.order_by("position", "id")
    ]


@pytest.fixture
def default_rules(default_profile):
    return rules_as_dicts(default_profile)
