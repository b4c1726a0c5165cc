"""Django's async-safety check stays on for the whole test process.

DJANGO_ALLOW_ASYNC_UNSAFE switched on by any module (the browser tests once did, at import) would
hide a SynchronousOnlyOperation in every test that runs after it. Every test module is imported
before the first test runs, so this test sees such a switch wherever it is thrown."""

import asyncio
import os

import pytest
from django.core.exceptions import SynchronousOnlyOperation

from scoring.models import Tier


def test_no_module_switches_the_async_safety_check_off():
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ


@pytest.mark.django_db
def test_an_orm_call_from_a_running_event_loop_is_refused():
    async def count_tiers():
        return Tier.objects.count()

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(count_tiers())
