"""Faults with real processes: a worker killed with SIGKILL mid-run, PostgreSQL stopped during a
run, two runs started at the same moment. They need PostgreSQL (DATABASE_URL) and a Redis broker
(TEST_CELERY_BROKER_URL), both started by `make test`. They commit for real, so they are
transactional tests with serialized_rollback (the seeded rows come back for the next test)."""

import base64
import datetime
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.urls import reverse

from config.celery import app as celery_app
from core.exceptions import ConflictError
from core.tests.clock import RUN_DAY
from crm.models import Customer, Industry, Order
from crm.tests.factories import CustomerFactory
from crm.tests.test_faults import celery_broker
from tiering import tasks as tiering_tasks
from tiering.models import Notice, TierAssignment, TierChange, TieringSettings, TierRun, TierRunChunk
from tiering.services import task_names, tier_run_resume, tier_run_start
from tiering.tests.faults import DB_RETRIES_ENV, FAULT_ENV, FAULT_HOLD_DIR_ENV, chunk_held_file

BASE_DIR = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


# --- real worker, Redis and PostgreSQL ----------------------------------------------------------


def _needs_real_services():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL); `make test` provides it")
    if not getattr(settings, "TEST_CELERY_BROKER_URL", ""):
        pytest.skip("needs a Redis broker (TEST_CELERY_BROKER_URL); `make test` provides it")


def _redis_url(db_index: int) -> str:
    """A Redis database of our own, so no other test's leftover messages reach our worker."""
    base = settings.TEST_CELERY_BROKER_URL.rsplit("/", 1)[0]
    return f"{base}/{db_index}"


def _redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A Celery worker in its own process group, killable as a whole with SIGKILL."""

    def __init__(
        self,
        name: str,
        broker: str,
        backend: str,
        log: Path,
        *,
        app: str = "config",  # the production app (config/celery.py), as in the README
        concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
    ):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": backend,
            "CELERY_VISIBILITY_TIMEOUT": "3",  # unacked tasks of a dead worker come back after 3 s
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",  # ...at the next sweep, every 10 s
            "NOTICE_EMAILS_ENABLED": "0",
        }
        for name_of_fault in (FAULT_ENV, FAULT_HOLD_DIR_ENV, DB_RETRIES_ENV):
            env.pop(name_of_fault, None)  # only what this worker is given (tiering.tests.worker_app reads them)
        env.update(extra_env or {})
        self.hostname = f"{name}@{socket.gethostname()}"
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                app,
                "worker",
                "-l",
                "info",
                "-c",
                str(concurrency),
                "-n",
                self.hostname,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker answers a ping: it has started, and its worker_ready handlers have run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"worker {self.hostname} exited:\n{self.log.read_text()[-3000:]}"
            if celery_app.control.ping(destination=[self.hostname], timeout=0.5):
                return
        raise AssertionError(f"worker {self.hostname} not ready after {timeout}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no shutdown code runs, nothing is acked."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker_factory(tmp_path):
    _needs_real_services()
    broker, backend = _redis_url(11), _redis_url(12)
    _redis_flush(broker)
    _redis_flush(backend)
    started: list[Worker] = []

    def start(name: str, **options) -> Worker:
        worker = Worker(name, broker, backend, tmp_path / "worker.log", **options)
        started.append(worker)
        worker.wait_ready()
        return worker

    with celery_broker(broker, backend):
        yield start
    for worker in started:
        worker.stop()


def _customers_bulk(count: int, manager) -> list[int]:
    """Customers with a year of orders; created in bulk so the run has many chunks to work through."""
    industry = Industry.objects.get(code="MFG")
    customers = Customer.objects.bulk_create(
        [
            Customer(
                code=f"MFG2026{n:05d}",
                name=f"Fault customer {n}",
                industry=industry,
                customer_type="b2b",
                account_manager=manager,
                cooperation_since=datetime.date(2019 + n % 7, 1, 1),
            )
            for n in range(count)
        ]
    )
    orders = [
        Order(
            customer=c,
            amount=Decimal(1000 + (n * 7919) % 90000),
            ordered_at=RUN_DAY - datetime.timedelta(days=d * 30 + 3),
            source="erp",
            external_ref=f"F{n}-{d}",
        )
        for n, c in enumerate(customers)
        for d in range(n % 12)
    ]
    Order.objects.bulk_create(orders, batch_size=5000)
    return [c.pk for c in customers]


def _wait_for(predicate, *, timeout: float, what: str, worker_log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    log = worker_log.read_text(errors="replace") if worker_log and worker_log.exists() else ""
    errors = [line for line in log.splitlines() if "ERROR" in line or "WARNING" in line][-15:]
    runs = list(TierRun.objects.values("id", "status", "done", "total", "error"))
    chunks = list(TierRunChunk.objects.values("status").annotate(n=Count("id")).values_list("status", "n"))
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}; runs {runs}; chunks {chunks}\n" + "\n".join(errors)
    )


def _assert_written_exactly_once(run: TierRun, customer_ids: list[int]) -> None:
    per_customer = TierAssignment.objects.filter(run=run).values("customer").annotate(n=Count("id"))
    assert sorted(row["customer"] for row in per_customer) == sorted(customer_ids)
    assert {row["n"] for row in per_customer} == {1}
    changes = TierChange.objects.filter(run=run)
    assert changes.values("customer").distinct().count() == changes.count()
    notices = Notice.objects.filter(run=run).exclude(change=None)
    assert notices.values("change").distinct().count() == notices.count() <= changes.count()
    for chunk in run.chunks.all():  # nothing half-written: a chunk is wholly stored or not at all
        stored = TierAssignment.objects.filter(
            run=run, customer_id__gte=chunk.first_customer_id, customer_id__lte=chunk.last_customer_id
        ).count()
        assert stored == (chunk.size if chunk.status == TierRunChunk.Status.DONE else 0)


def _chunk_message_drop(broker: str) -> int:
    """Take the next chunk task off the broker's queue and throw it away; its chunk's id.

    This is what SIGKILL does to a message the worker had just taken off the Redis list (BRPOP) and
    not yet recorded as unacknowledged: no broker will ever deliver it again. The window is a few
    milliseconds per chunk, too narrow to hit by timing the kill, so the test opens it on purpose."""
    import redis

    raw = redis.Redis.from_url(broker).rpop("celery")  # the default queue; BRPOP takes from the right
    assert raw, "no chunk task left in the queue at the kill; make the run bigger"
    message = json.loads(raw)
    assert message["headers"]["task"] == task_names.TIER_RUN_CHUNK, message["headers"]
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    return args[0]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the seeded rows
def test_run_survives_its_worker_being_killed_with_sigkill(worker_factory, manager, tmp_path):
    customer_ids = _customers_bulk(4000, manager)
    TieringSettings.objects.filter(pk=TieringSettings.current().pk).update(chunk_size=100)
    first = worker_factory("first")

    run = tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, started_by=manager)
    _wait_for(
        lambda: TierRunChunk.objects.filter(run=run, status="done").count() >= 3,
        timeout=90,
        what="the first chunks",
        worker_log=tmp_path / "worker.log",
    )
    first.kill()
    # The chunks the killed worker was working on stay unacknowledged in Redis (they come back after
    # the visibility timeout); one more is lost outright, as a kill between BRPOP and its record loses it.
    lost_chunk = _chunk_message_drop(_redis_url(11))
    assert TierRunChunk.objects.get(pk=lost_chunk).status == TierRunChunk.Status.PENDING
    assert TierRunChunk.objects.filter(run=run, status="done").count() < run.chunks.count(), (
        "the run finished before the kill; make it bigger"
    )

    # A worker comes back. Nobody resumes the run and no sweep runs: it finishes by itself.
    worker_factory("second")
    run = _wait_for(
        lambda: TierRun.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(),
        timeout=120,
        what="the run to finish once a worker is back",
        worker_log=tmp_path / "worker.log",
    )
    assert run.status == TierRun.Status.SUCCEEDED, run.error
    assert run.done == run.total == len(customer_ids)
    assert TierRunChunk.objects.get(pk=lost_chunk).status == TierRunChunk.Status.DONE
    _assert_written_exactly_once(run, customer_ids)


def _pg_ctl_for_this_database():
    """pg_ctl bound to the running cluster (found while it is still up), run as the cluster's owner,
    restarting it with the port, socket directory and addresses it has now."""
    with connection.cursor() as cursor:
        settings_now = {}
        for name in ("data_directory", "port", "unix_socket_directories", "listen_addresses"):
            cursor.execute(f"SHOW {name}")
            settings_now[name] = cursor.fetchone()[0]
    data_dir = settings_now["data_directory"]
    owner = pwd.getpwuid(os.stat(data_dir).st_uid).pw_name
    options = (
        f"-p {settings_now['port']} -k {settings_now['unix_socket_directories'].split(',')[0]} "
        f"-c listen_addresses={settings_now['listen_addresses']} -c fsync=off -c max_connections=200"
    )

    def pg_ctl(action: str, *extra: str) -> None:
        command = [str(PG_BIN / "pg_ctl"), "-D", data_dir, "-w", "-t", "60", action, *extra]
        if action == "start":
            command += ["-o", options, "-l", f"{data_dir}/server.log"]
        if os.geteuid() == 0 and owner != "root":
            command = ["runuser", "-u", owner, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", timeout=90)

    return pg_ctl


def _backends_writing(model) -> int:
    """Other connections whose open transaction has written to the model's table (row locks held)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = %s AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()",
            [model._meta.db_table],
        )
        return cursor.fetchone()[0]


def _stored_for(run: TierRun, chunk: TierRunChunk) -> dict[str, int]:
    """What the run stored for the customers of one chunk: assignments, changes, notices."""
    customers = {"customer_id__gte": chunk.first_customer_id, "customer_id__lte": chunk.last_customer_id}
    return {
        "assignments": TierAssignment.objects.filter(run=run, **customers).count(),
        "changes": TierChange.objects.filter(run=run, **customers).count(),
        "notices": Notice.objects.filter(run=run, **customers).count(),
    }


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the seeded rows
def test_run_interrupted_by_a_database_restart_fails_cleanly_and_resumes(worker_factory, manager, tmp_path):
    customer_ids = _customers_bulk(800, manager)
    TieringSettings.objects.filter(pk=TieringSettings.current().pk).update(chunk_size=100)  # 8 chunks
    held = 2
    hold_dir = tmp_path / "held"
    hold_dir.mkdir()
    # One pool process, so nothing else runs while chunk 2 waits. Its worker gives up on a database
    # error at once: production retries for about five minutes first, longer than a test may stop
    # PostgreSQL; either way a chunk whose database stayed away longer than its retries gives up.
    worker_factory(
        "db",
        app="tiering.tests.worker_app",
        concurrency=1,
        extra_env={
            FAULT_ENV: f"hold:{held}",
            FAULT_HOLD_DIR_ENV: str(hold_dir),
            DB_RETRIES_ENV: "0",
            "CELERY_VISIBILITY_TIMEOUT": "3600",  # the held chunk's task is not delivered twice meanwhile
        },
    )
    run = tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, started_by=manager)
    held_file = chunk_held_file(hold_dir, held)
    _wait_for(held_file.exists, timeout=90, what=f"chunk {held} to hold its transaction open")

    # Chunk 2 has written its rows, uncommitted. Every connection drops mid-transaction.
    assert _backends_writing(TierAssignment) == 1, "chunk 2's transaction holds its written assignments"
    pg_ctl = _pg_ctl_for_this_database()
    connection.close()
    pg_ctl("stop", "-m", "fast")
    pg_ctl("start")
    connection.close()
    held_file.unlink()  # chunk 2 goes on to its commit, on a connection the stop cut

    run = _wait_for(
        lambda: TierRun.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(),
        timeout=90,
        what="the run to be closed after the restart",
        worker_log=tmp_path / "worker.log",
    )
    # Failed, with the error; the interrupted chunk stored nothing; every other chunk is whole.
    assert run.status == TierRun.Status.FAILED, "the chunk cut by the stop must fail the run"
    unfinished = list(run.chunks.exclude(status=TierRunChunk.Status.DONE))
    assert [(c.index, c.status) for c in unfinished] == [(held, TierRunChunk.Status.FAILED)]
    chunk = unfinished[0]
    assert "Error(" in chunk.error, chunk.error  # the database error, as the worker saw it
    assert f"#{held}: {chunk.error[:40]}" in run.error, run.error
    assert _stored_for(run, chunk) == {"assignments": 0, "changes": 0, "notices": 0}
    assert run.done == len(customer_ids) - chunk.size  # its share of the counters rolled back too
    for done in run.chunks.filter(status=TierRunChunk.Status.DONE):
        assert _stored_for(run, done)["assignments"] == done.size

    run = tier_run_resume(run)
    run = _wait_for(
        lambda: TierRun.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(),
        timeout=90,
        what="the resumed run",
        worker_log=tmp_path / "worker.log",
    )
    assert run.status == TierRun.Status.SUCCEEDED, run.error
    assert run.done == run.total == len(customer_ids)
    assert TierRunChunk.objects.get(pk=chunk.pk).attempts == 2
    _assert_written_exactly_once(run, customer_ids)


# --- two runs at the same moment ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the seeded rows
def test_two_runs_started_at_the_same_moment_exactly_one_proceeds(client, admin_user, manager, caplog):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers instead of racing them")
    CustomerFactory.create_batch(3, account_manager=manager)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def from_api():
        client.force_login(admin_user)
        barrier.wait()
        outcomes["api"] = client.post(
            reverse("api:tier-run-list"), {"as_of": RUN_DAY.isoformat()}, content_type="application/json"
        )
        connection.close()

    def from_beat():
        barrier.wait()
        try:
            outcomes["beat"] = tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.SCHEDULE, enqueue=False)
        except ConflictError as exc:
            outcomes["beat"] = exc
        connection.close()

    threads = [threading.Thread(target=from_api), threading.Thread(target=from_beat)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    api, beat = outcomes["api"], outcomes["beat"]
    assert TierRun.objects.filter(dry_run=False).count() == 1
    if isinstance(beat, ConflictError):
        assert api.status_code == 202
        assert beat.message and beat.status_code == 409
    else:
        assert api.status_code == 409, api.content
        assert api.json()["error"]["code"] == "run_in_progress" and api.json()["error"]["message"]
    # The beat task reports a refusal instead of failing.
    assert tiering_tasks.tier_run_scheduled(as_of=RUN_DAY.isoformat()) is None
