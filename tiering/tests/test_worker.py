"""End to end on real services: a Celery worker subprocess, the Redis broker and PostgreSQL.

`make test` starts PostgreSQL and Redis and exports DATABASE_URL and TEST_CELERY_BROKER_URL. The
worker gets the *test* database through DATABASE_URL, and the tests use transactional_db so the
worker sees committed rows. The worker runs tiering.tests.worker_app, the project's Celery app plus
the chunk faults named in its environment (tiering.tests.faults).
"""

import datetime
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.db import OperationalError, connection

from config.celery import app
from core.tests.clock import RUN_DAY
from crm.models import Customer
from crm.tests.test_faults import celery_broker
from tiering import services
from tiering import tasks as tiering_tasks
from tiering.models import Notice, TierAssignment, TierChange, TieringSettings, TierRun, TierRunChunk
from tiering.tests.conftest import run_day, strong_customer, weak_customer
from tiering.tests.faults import FAULT_ENV

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    # Committed data for the worker; the seeded tiers and settings come back for the next test.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]
LATER = datetime.date(2027, 7, 1)
STRONG, WEAK = 9, 9


def _broker_url() -> str:
    return os.environ.get("TEST_CELERY_BROKER_URL", "")


def _database_url() -> str:
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def real_services():
    if connection.vendor != "postgresql" or not _broker_url():
        pytest.skip("needs PostgreSQL (DATABASE_URL) and a Redis broker (TEST_CELERY_BROKER_URL): run make test")


@pytest.fixture
def celery_sender(real_services):
    """Point this process's Celery app at the real broker for the duration of a test.

    Uses the same thorough reset as the fault tests (connection and producer pools, the cached
    result backend, the environment variable), so no earlier test's broker address lingers."""
    with celery_broker(_broker_url(), _broker_url()):
        with app.connection_for_write() as conn:  # a clean queue: nothing left over from another test
            conn.default_channel.queue_purge("celery")
        yield app


def _worker(fault: str = "", name: str = "w1") -> subprocess.Popen:
    """A worker that has started (it answers a ping), so its start-up work (sending the pending chunks
    of unfinished runs again) is over before the test starts a run."""
    hostname = f"{name}@{socket.gethostname()}"
    worker = _worker_process(fault, hostname)
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[hostname], timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            _stop(worker)
            raise AssertionError(f"worker {hostname} did not start (exit code {worker.returncode})")
    return worker


def _worker_process(fault: str, hostname: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": _broker_url(),
        "CELERY_RESULT_BACKEND": _broker_url(),
        FAULT_ENV: fault,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "tiering.tests.worker_app",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--hostname",
            hostname,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=5)


def _wait_for(run: TierRun, timeout: float = 45) -> TierRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (TierRun.Status.SUCCEEDED, TierRun.Status.FAILED):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.status} after {timeout} s: {run.done}/{run.total}")


def _start_on_its_day(as_of: datetime.date) -> TierRun:
    """A scheduled run started on its as-of day (a run may not look forward); the worker runs it."""
    with time_machine.travel(run_day(as_of)):
        return services.tier_run_start(as_of=as_of, trigger=TierRun.Trigger.SCHEDULE)


def _customers(manager):
    TieringSettings.objects.filter(pk=TieringSettings.current().pk).update(chunk_size=4)  # 18 customers: 5 chunks
    for _ in range(STRONG):
        strong_customer(manager)
    for _ in range(WEAK):
        weak_customer(manager)


def test_a_full_retier_on_a_real_worker(manager, celery_sender):
    _customers(manager)
    worker = _worker()
    try:
        first = _wait_for(services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.SCHEDULE))
        assert first.status == TierRun.Status.SUCCEEDED, first.error
        assert first.tier_counts == {"vip": STRONG, "dormant": WEAK} and first.done == STRONG + WEAK
        assert TierAssignment.objects.filter(run=first).count() == STRONG + WEAK
        assert Customer.objects.filter(tier__code="vip").count() == STRONG

        second = _wait_for(_start_on_its_day(LATER))
        assert second.status == TierRun.Status.SUCCEEDED, second.error
        assert second.downgrades == STRONG and second.upgrades == 0
        assert TierChange.objects.filter(run=second, direction="downgrade").count() == STRONG
        assert Notice.objects.filter(run=second, recipient=manager, kind="downgrade").count() == STRONG
        assert not Customer.objects.filter(tier__code="vip").exists()
    finally:
        _stop(worker)


def test_failed_and_killed_chunks_complete_on_retry_exactly_once(manager, celery_sender):
    _customers(manager)
    first = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, enqueue=False)
    services.tier_run_execute(first)
    # Chunk 1 raises after writing its rows; chunk 3's worker process dies mid-transaction.
    worker = _worker(fault="raise:1,exit:3")
    try:
        run = _wait_for(_start_on_its_day(LATER))
    finally:
        _stop(worker)
    assert run.status == TierRun.Status.SUCCEEDED, run.error
    attempts = dict(run.chunks.values_list("index", "attempts"))
    assert attempts[1] == 2 and attempts[3] == 2 and attempts[0] == 1
    assert TierAssignment.objects.filter(run=run).count() == STRONG + WEAK
    per_customer = TierAssignment.objects.filter(run=run).values_list("customer_id", flat=True)
    assert len(set(per_customer)) == STRONG + WEAK
    assert TierChange.objects.filter(run=run).count() == STRONG
    assert Notice.objects.filter(run=run).count() == STRONG
    assert run.done == STRONG + WEAK and run.downgrades == STRONG


def test_a_starting_worker_sends_the_pending_chunks_of_an_unfinished_run_again(manager, celery_sender):
    """A run none of whose chunk tasks is in the broker (lost with a killed worker; here never sent)
    finishes once a worker starts: the worker sends its pending chunks again (worker_ready)."""
    _customers(manager)
    run = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, enqueue=False)
    worker = _worker()
    try:
        run = _wait_for(run)
    finally:
        _stop(worker)
    assert run.status == TierRun.Status.SUCCEEDED, run.error
    assert TierAssignment.objects.filter(run=run).values("customer").distinct().count() == STRONG + WEAK
    assert TierAssignment.objects.filter(run=run).count() == STRONG + WEAK and run.done == STRONG + WEAK


def test_the_start_up_sending_leaves_failed_chunks_and_finished_runs_alone(manager, caplog, monkeypatch):
    """In this process (eager Celery): the pending chunks run, a chunk that failed stays failed for
    a resume, so the run closes failed; a finished run is not touched; a failure is only logged."""
    _customers(manager)
    finished = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, enqueue=False)
    finished = services.tier_run_execute(finished)
    with time_machine.travel(run_day(LATER)):
        run = services.tier_run_start(as_of=LATER, trigger=TierRun.Trigger.SCHEDULE, enqueue=False)
    failed = run.chunks.get(index=1)
    run.chunks.filter(pk=failed.pk).update(status=TierRunChunk.Status.FAILED, error="gave up earlier")

    tiering_tasks.runs_redispatch_on_worker_ready()

    run.refresh_from_db()
    assert run.status == TierRun.Status.FAILED and "#1: gave up earlier" in run.error
    assert dict(run.chunks.values_list("index", "status")) == {0: "done", 1: "failed", 2: "done", 3: "done", 4: "done"}
    assert run.chunks.get(index=1).attempts == 0
    assert TierRun.objects.get(pk=finished.pk).finished_at == finished.finished_at

    def database_down():
        raise OperationalError("the database is away")

    monkeypatch.setattr(tiering_tasks, "tier_runs_redispatch", database_down)
    tiering_tasks.runs_redispatch_on_worker_ready()  # the worker starts all the same
    assert "could not be sent again" in caplog.text
