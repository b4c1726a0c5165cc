"""The service-commitments rows of the benchmark measure what they claim: cases written with COPY
with the due shares asked for, a sweep that reminds and breaches exactly those, and the results
timed computed and cached."""

from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from bench import harness, service_commitments
from bench.generate import generate
from commitments.models import Case
from core.tests.clock import AS_OF
from tiering.models import Notice, TierRun

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def postgres(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark runs on PostgreSQL only: run make test")
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    # The sweep is timed in a child process: point it at the test database.
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT']}/{db['NAME']}"
    )
    generate(customers=300, as_of=AS_OF, seed=3, verbose=False)


def test_the_sweep_row_reminds_and_breaches_the_shares_asked_for(postgres):
    results = harness.Results()
    service_commitments.measure_sla_sweep(results, repetitions=1, count=1000)
    assert Case.objects.filter(status="open").count() == 1000
    steady, catching_up = results.rows
    assert steady.name.startswith("9. SLA sweep, 1,000 open cases, steady: ") and steady.target == "< 2 s"
    assert catching_up.ok is None
    outcome = results.raw["sla_sweep"]["catching up after an outage"][0]
    assert 60 <= outcome["reminded"] <= 140 and 25 <= outcome["breached"] <= 75  # 10% and 5%, by a hash of the id
    assert outcome["again"] == 0
    assert Case.objects.filter(reminded_at__isnull=False).count() == outcome["reminded"]
    assert Notice.objects.filter(kind=Notice.Kind.CASE_BREACH).count() == outcome["breached"]  # no administrator yet


def test_the_results_rows_time_the_api_computed_and_cached(postgres):
    results = harness.Results()
    service_commitments.measure_results(results, requests=3, cold_requests=2)
    assert TierRun.objects.filter(period__startswith=service_commitments.BENCH_PERIOD_PREFIX).count() == 4
    names = [row.name for row in results.rows]
    assert "10. GET /api/v1/results/ (admin), last 4 quarters, computed" in names
    cached = next(
        row for row in results.rows if row.name.startswith("10. GET /api/v1/results/ (admin)") and "cache" in row.name
    )
    assert cached.target == "p95 < 100 ms"
    computed = next(
        row for row in results.rows if row.name == "10. GET /api/v1/results/ (admin), last 4 quarters, computed"
    )
    assert "queries" in computed.note and not computed.note.startswith("0 ")
