"""The benchmark's service rows measure what they name and leave every contact status right."""

import pytest

from bench import harness
from bench.generate import generate
from core.tests.clock import AS_OF, RUN_DAY
from service.models import ContactStatus
from service.services.contact import contact_status_refresh, contact_statuses_moved
from tiering.tests.conftest import run_now

pytestmark = pytest.mark.django_db


def test_the_service_rows_are_measured_with_their_query_counts():
    generate(customers=200, as_of=AS_OF, seed=3, verbose=False)
    run_now(RUN_DAY)
    results = harness.Results()

    harness.measure_service(results, repetitions=1, requests=2)

    names = [row.name for row in results.rows]
    assert len(names) == 8 and all(name.startswith("8. ") for name in names)
    assert any("after a run" in name for name in names) and any("worst plan edit" in name for name in names)
    for who in ("admin", "manager"):
        assert any(f"GET /api/v1/contact-due/?state=overdue ({who}" in name for name in names)
        assert any(f"GET /api/v1/tasks/ ({who}" in name for name in names)
        assert any(f"contact_plan_cards ({who})" in name for name in names)
    assert all(row.note.endswith("queries") for row in results.rows)
    assert ContactStatus.objects.count() > 150  # every tiered customer has one
    assert contact_statuses_moved() == [] and contact_status_refresh(None) == 0  # left as the data gives them
