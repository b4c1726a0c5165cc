"""The retier command's worker processes on PostgreSQL: chunks on their own connections, each
written once.

Workers need committed data (each has its own connection), so these tests are transactional."""

import threading

import pytest
from django.db import connection, connections

from core.tests.clock import RUN_DAY
from crm.models import Customer
from tiering import persist, services
from tiering.models import TierAssignment, TierChange, TieringSettings, TierRun, TierRunChunk
from tiering.services import runs
from tiering.tests.conftest import strong_customer, weak_customer
from tiering.tests.faults import chunk_faults

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("worker processes run on PostgreSQL only: run make test")


@pytest.fixture
def six_customers(postgres, manager):
    TieringSettings.objects.filter(pk=TieringSettings.current().pk).update(chunk_size=2)
    return [strong_customer(manager) for _ in range(3)] + [weak_customer(manager) for _ in range(3)]


def _start():
    return services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, enqueue=False)


def test_chunks_run_in_worker_processes_and_every_customer_is_tiered_once(six_customers):
    reported = []
    run = services.tier_run_execute(_start(), progress=lambda done, total: reported.append((done, total)), workers=2)
    assert run.status == TierRun.Status.SUCCEEDED, run.error
    assert run.chunks.filter(status=TierRunChunk.Status.DONE).count() == 3
    assert run.tier_counts == {"vip": 3, "dormant": 3} and run.done == 6
    assert sorted(TierAssignment.objects.filter(run=run).values_list("customer_id", flat=True)) == sorted(
        c.pk for c in six_customers
    )
    assert reported[-1] == (6, 6)


def test_a_failing_chunk_fails_the_run_and_a_resume_finishes_it(six_customers, monkeypatch):
    real = runs.chunk_process

    def flaky(chunk_id):
        if chunk_id == second_id:
            raise RuntimeError("database went away")
        return real(chunk_id)

    run = _start()
    second_id = run.chunks.get(index=1).pk
    monkeypatch.setattr(runs, "chunk_process", flaky)
    run = services.tier_run_execute(run, workers=2)
    assert run.status == TierRun.Status.FAILED and "database went away" in run.chunks.get(index=1).error
    monkeypatch.setattr(runs, "chunk_process", real)
    run = services.tier_run_execute(services.tier_run_resume(run, enqueue=False), workers=2)
    assert run.status == TierRun.Status.SUCCEEDED, run.error
    assert TierAssignment.objects.filter(run=run).count() == 6
    assert not TierChange.objects.exists()  # first run: nobody had a tier to move from


def test_deleting_a_customer_waits_for_the_chunk_writing_its_history(six_customers, monkeypatch):
    """History has no database foreign key: the customer's row lock keeps it from being orphaned."""
    written, release = threading.Event(), threading.Event()
    real = persist.chunk_write

    def write_then_hold(rows):
        real(rows)
        if not written.is_set():
            written.set()
            release.wait(20)  # the chunk's transaction stays open, its customers locked

    monkeypatch.setattr(persist, "chunk_write", write_then_hold)
    run = _start()
    first = run.chunks.get(index=0).first_customer_id
    outcome = {}

    def in_thread(name, work):
        def target():
            try:
                outcome[name] = work()
            finally:
                connections.close_all()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    runner = in_thread("run", lambda: services.tier_run_execute(run, workers=1))
    assert written.wait(20)
    deleter = in_thread("delete", lambda: Customer.objects.get(pk=first).delete())
    deleter.join(1)
    assert deleter.is_alive(), "the delete must wait for the chunk's transaction"
    release.set()
    runner.join(30)
    deleter.join(30)
    assert outcome["run"].status == TierRun.Status.SUCCEEDED
    assert not Customer.objects.filter(pk=first).exists()
    assert not TierAssignment.objects.filter(customer_id=first).exists()
    assert TierAssignment.objects.filter(run=run).count() == 5


def test_a_worker_process_that_dies_fails_the_run_and_a_resume_finishes_it(six_customers):
    with chunk_faults("exit:1"):  # chunk 1's process exits before its commit, on its first attempt only
        run = services.tier_run_execute(_start(), workers=2)
        assert run.status == TierRun.Status.FAILED
        lost = run.chunks.get(index=1)
        assert lost.status != TierRunChunk.Status.DONE
        assert not TierAssignment.objects.filter(
            run=run, customer_id__gte=lost.first_customer_id, customer_id__lte=lost.last_customer_id
        ).exists()

        run = services.tier_run_execute(services.tier_run_resume(run, enqueue=False), workers=2)
        assert run.status == TierRun.Status.SUCCEEDED, run.error
        assert sorted(TierAssignment.objects.filter(run=run).values_list("customer_id", flat=True)) == sorted(
            c.pk for c in six_customers
        )
