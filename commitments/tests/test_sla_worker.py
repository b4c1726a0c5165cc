"""The SLA sweep on real services: Celery worker subprocesses, the Redis broker and PostgreSQL.

"No breach missed, none notified twice": several sweeps on two workers at once claim every due case
exactly once (SKIP LOCKED and a conditional stamp); a worker SIGKILLed in the middle of a batch
leaves nothing behind (its transaction rolls back: no stamp, no notice, nothing delivered), and the
next sweep records every breach once. Notified means both the notice rows and their delivery (the
structured log line each worker writes after its commit), counted in the workers' own logs.

`make test` starts PostgreSQL and Redis and exports DATABASE_URL and TEST_CELERY_BROKER_URL; the
workers run commitments.tests.worker_app (the project's app plus the faults in their environment).
"""

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from commitments.models import Case
from commitments.tests.faults import BATCH_ENV, FAULT_ENV, HOLD_DIR_ENV, held_file
from config.celery import app
from crm.tests.factories import CustomerFactory
from crm.tests.test_faults import celery_broker
from tiering.models import Notice
from tiering.tests.factories import tier

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    # Committed data for the workers; the seeded tiers and settings come back for the next test.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]
SWEEP = "commitments.tasks.sla_sweep"


def _broker_url() -> str:
    return os.environ.get("TEST_CELERY_BROKER_URL", "")


def _database_url() -> str:
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_sender():
    if connection.vendor != "postgresql" or not _broker_url():
        pytest.skip("needs PostgreSQL (DATABASE_URL) and a Redis broker (TEST_CELERY_BROKER_URL): run make test")
    with celery_broker(_broker_url(), _broker_url()):
        _queue_clear()
        yield app
        _queue_clear()


def _queue_clear() -> None:
    """Nothing left over from another test: no waiting task, and none a killed worker had taken
    (Redis keeps those aside to hand them out again, which would add a sweep to the next test)."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_purge("celery")
        channel.client.delete(channel.unacked_key, channel.unacked_index_key)


class Worker:
    """A worker subprocess whose log goes to a file, started and answering a ping."""

    def __init__(self, name: str, tmp_path: Path, *, fault: str = "", batch: int = 50):
        self.hostname = f"{name}@{socket.gethostname()}"
        self.log = tmp_path / f"{name}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": _broker_url(),
            "CELERY_RESULT_BACKEND": _broker_url(),
            FAULT_ENV: fault,
            HOLD_DIR_ENV: str(tmp_path),
            BATCH_ENV: str(batch),
            "LOG_LEVEL": "WARNING",  # the notices' own logger stays at INFO: one line per delivery
        }
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "celery"),
                    "-A",
                    "commitments.tests.worker_app",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    "2",
                    "--hostname",
                    self.hostname,
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.hostname], timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"worker {self.hostname} did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes: nothing gets to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def deliveries(self) -> Counter:
        """(kind, case, recipient) of every notice this worker delivered after its commits."""
        found: Counter = Counter()
        for line in self.log.read_text().splitlines():
            start = line.find('{"event":"tier_notice"')
            if start >= 0:
                notice = json.loads(line[start:])
                found[(notice["kind"], notice["case"], notice["recipient_id"])] += 1
        return found


def _due_cases(manager, count: int) -> list[Case]:
    """`count` core cases whose reminder and first-response deadline have both passed."""
    customers = [CustomerFactory(account_manager=manager, tier=tier("core")) for _ in range(5)]
    opened = timezone.now() - datetime.timedelta(hours=3)
    Case.objects.bulk_create(
        Case(
            customer=customers[n % len(customers)],
            kind=Case.Kind.REQUEST,
            subject=f"Stopped #{n}",
            owner=manager,
            opened_at=opened,
            tier=tier("core"),
            response_minutes=120,
            clock="24x7",
            first_response_due_at=opened + datetime.timedelta(minutes=120),
            reminder_at=opened + datetime.timedelta(minutes=96),
        )
        for n in range(count)
    )
    return list(Case.objects.order_by("pk"))


def _expected(cases, recipients) -> Counter:
    wanted: Counter = Counter()
    for case in cases:
        wanted[("case_reminder", case.pk, case.owner_id)] = 1
        for recipient in recipients:
            wanted[("case_breach", case.pk, recipient)] = 1
    return wanted


def _stored_notices() -> Counter:
    return Counter(
        (kind, payload["case"], recipient)
        for kind, payload, recipient in Notice.objects.filter(
            kind__in=[Notice.Kind.CASE_REMINDER, Notice.Kind.CASE_BREACH]
        ).values_list("kind", "payload", "recipient_id")
    )


def _wait_for_file(path: Path, worker: Worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared:\n{worker.log.read_text()[-3000:]}")
        time.sleep(0.05)


def test_two_workers_sweeping_at_once_notify_each_reminder_and_breach_once(
    manager, admin_user, celery_sender, tmp_path
):
    cases = _due_cases(manager, 600)
    # Batches of 50 that each take 0.1 s: four sweeps on two workers overlap for seconds.
    workers = [Worker(name, tmp_path, fault="pause:0.1") for name in ("w1", "w2")]
    try:
        sent = [celery_sender.send_task(SWEEP) for _ in range(4)]
        outcomes = [result.get(timeout=120) for result in sent]
        again = celery_sender.send_task(SWEEP).get(timeout=60)  # a later tick finds nothing left
    finally:
        for worker in workers:
            worker.stop()

    assert sum(o["reminded"] for o in outcomes) == len(cases)  # each case claimed by exactly one sweep
    assert sum(o["breached"] for o in outcomes) == len(cases)
    assert sum(1 for o in outcomes if o["breached"]) >= 2, outcomes  # the sweeps really ran side by side
    assert again == {"reminded": 0, "breached": 0}
    wanted = _expected(cases, [manager.pk, admin_user.pk])
    assert _stored_notices() == wanted
    assert workers[0].deliveries() + workers[1].deliveries() == wanted  # each delivered once, by one worker
    assert not Case.objects.filter(reminded_at__isnull=True).exists()
    assert not Case.objects.filter(breached_at__isnull=True).exists()


def test_a_worker_killed_mid_sweep_misses_no_breach_and_notifies_none_twice(
    manager, admin_user, celery_sender, tmp_path
):
    cases = _due_cases(manager, 300)
    doomed = Worker("doomed", tmp_path, fault="hold:breach")
    try:
        celery_sender.send_task(SWEEP)
        # Every reminder batch committed; the first breach batch is stamped, its notices written, uncommitted.
        _wait_for_file(held_file(tmp_path, "breach"), doomed)
        assert Case.objects.filter(reminded_at__isnull=False).count() == len(cases)
        assert not Case.objects.filter(breached_at__isnull=False).exists()
        assert not Notice.objects.filter(kind=Notice.Kind.CASE_BREACH).exists()
        doomed.kill()
    finally:
        doomed.stop()
    assert not Case.objects.filter(breached_at__isnull=False).exists()  # the killed batch rolled back

    survivor = Worker("survivor", tmp_path)
    try:
        outcome = celery_sender.send_task(SWEEP).get(timeout=60)
        deadline = time.monotonic() + 30  # the killed worker's task may come back to the survivor too
        while Case.objects.filter(breached_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        survivor.stop()

    assert outcome["reminded"] == 0
    wanted = _expected(cases, [manager.pk, admin_user.pk])
    assert _stored_notices() == wanted
    delivered = doomed.deliveries() + survivor.deliveries()
    assert delivered == wanted  # the reminders by the killed worker before it died, the breaches by the survivor
    assert not any(kind == "case_breach" for kind, _case, _recipient in doomed.deliveries())
    assert not Case.objects.filter(breached_at__isnull=True).exists()
