"""Fixtures of the service-commitments tests."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def results_cache_cleared():
    """The results are cached per visibility and quarters: no test sees another test's figures."""
    cache.clear()
    yield
    cache.clear()
