"""The chunk task's failure handling: a run is always closed, never left running. The names the
services send tasks by. The hourly sweep: late data re-evaluated, overrides expired, stalled runs failed."""

import datetime
import json
import os
import subprocess
import sys
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone, translation

from config.celery import app as celery_app
from core.tests.clock import RUN_DAY
from crm.models import Order
from crm.tests.factories import CustomerFactory, OrderFactory
from tiering import services, tasks
from tiering.models import TierChange, TierOverride, TierRun, TierRunChunk
from tiering.services import task_names
from tiering.tests.conftest import run_now, strong_customer

ROOT = Path(__file__).resolve().parents[2]
SENT_BY_NAME = {
    task_names.TIER_RUN_CHUNK: tasks.tier_run_chunk,
    task_names.TIER_RUN_CLOSE: tasks.tier_run_close,
    task_names.REEVALUATE_CUSTOMERS: tasks.reevaluate_customers,
}
# Ten seconds after midnight in Shanghai, the business time zone: 1 December there, still 30
# November (16:00:10) in UTC. A task that took "today" from UTC, or a test on the real clock run
# around this time, sees the wrong day.
NOW = datetime.datetime(2026, 12, 1, 0, 0, 10, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
TODAY = datetime.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_tasks_the_services_send_by_name_are_registered_under_those_names():
    for name, task in SENT_BY_NAME.items():
        assert task.name == name and name in celery_app.tasks


def test_django_setup_alone_registers_the_tasks_so_eager_mode_runs_them_in_process():
    """A signature by name runs eagerly only if its task is registered; otherwise Celery sends it to
    the broker, which eager mode (development, tests) does not have. This test module imports
    tiering.tasks itself, so the check runs in a fresh process that only set Django up."""
    code = (
        "import json, django; django.setup(); from celery import current_app; "
        "print(json.dumps(sorted(current_app.tasks)))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    registered = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert set(SENT_BY_NAME) <= registered, "import tiering.tasks in TieringConfig.ready()"


def _failing(exc):
    def chunk_process(chunk_id):
        raise exc

    return chunk_process


def test_a_chunk_that_keeps_failing_is_marked_failed_and_the_run_closes_with_the_reason(
    strong, weak, tiering_settings, monkeypatch, django_capture_on_commit_callbacks
):
    tiering_settings.chunk_size = 1
    tiering_settings.save()
    monkeypatch.setattr(services, "chunk_process", _failing(RuntimeError("disk full")))
    with django_capture_on_commit_callbacks(execute=True):
        run = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL)
    run.refresh_from_db()
    assert run.status == TierRun.Status.FAILED
    assert "disk full" in run.error
    assert set(run.chunks.values_list("status", flat=True)) == {TierRunChunk.Status.FAILED}


def test_database_outages_are_retried_longer_than_ordinary_errors(monkeypatch, strong, tiering_settings):
    attempts = []

    def flaky(chunk_id):
        attempts.append(chunk_id)
        if len(attempts) <= tasks.CHUNK_MAX_RETRIES + 2:
            raise OperationalError("server closed the connection unexpectedly")
        return services.runs.chunk_process(chunk_id)

    run = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, enqueue=False)
    chunk = run.chunks.get()
    monkeypatch.setattr(services, "chunk_process", flaky)
    assert tasks.tier_run_chunk.apply(args=[chunk.pk]).get() == chunk.pk
    chunk.refresh_from_db()
    assert chunk.status == TierRunChunk.Status.DONE
    assert len(attempts) == tasks.CHUNK_MAX_RETRIES + 3


def test_the_sweep_fails_a_run_that_stopped_making_progress(strong, tiering_settings):
    stalled = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, enqueue=False)
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    TierRun.objects.filter(pk=stalled.pk).update(
        status=TierRun.Status.RUNNING, created_at=long_ago, started_at=long_ago
    )

    with translation.override("en"):
        assert services.tier_runs_fail_stalled(idle=datetime.timedelta(minutes=30)) == [stalled.pk]
    stalled.refresh_from_db()
    assert stalled.status == TierRun.Status.FAILED
    assert "No progress for 30 minutes" in stalled.error and "resume" in stalled.error
    resumed = services.tier_run_resume(stalled, enqueue=False)
    assert services.tier_run_execute(resumed).status == TierRun.Status.SUCCEEDED


@pytest.mark.parametrize("minutes_ago", [5, 29])
def test_the_sweep_leaves_a_run_with_recent_progress_alone(strong, tiering_settings, minutes_ago):
    run = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, enqueue=False)
    recently = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    TierRun.objects.filter(pk=run.pk).update(
        status=TierRun.Status.RUNNING, created_at=recently - datetime.timedelta(hours=1), started_at=recently
    )
    assert services.tier_runs_fail_stalled(idle=datetime.timedelta(minutes=30)) == []
    run.refresh_from_db()
    assert run.status == TierRun.Status.RUNNING


def test_a_scheduled_run_the_service_refuses_is_logged_not_raised(strong, caplog):
    assert tasks.tier_run_scheduled.apply(kwargs={"as_of": "2099-01-01"}).get() is None
    assert "not started" in caplog.text and "as_of" in caplog.text
    assert not TierRun.objects.exists()


# --- the hourly sweep, called as beat calls it ----------------------------------------------------


def test_the_sweep_reevaluates_the_customers_whose_data_arrived_since_the_last_sweep(manager, tiering_settings):
    last_sweep = NOW - datetime.timedelta(hours=1)
    tiering_settings.last_sweep_at = last_sweep
    tiering_settings.save()
    late, seen = CustomerFactory(account_manager=manager), CustomerFactory(account_manager=manager)
    # Stored without the signal's task (lost, or a direct write): only the sweep can catch them up.
    OrderFactory(customer=late, amount=Decimal("1234.50"), ordered_at=datetime.date(2026, 11, 30))
    earlier = OrderFactory(customer=seen, amount=Decimal("99.00"), ordered_at=datetime.date(2026, 11, 29))
    Order.objects.filter(pk=earlier.pk).update(created_at=last_sweep - datetime.timedelta(minutes=1))

    assert tasks.reevaluate_sweep.apply().get() == 1

    late.refresh_from_db()
    seen.refresh_from_db()
    assert (late.figures_as_of, late.spend_12m, late.last_order_at) == (
        TODAY,
        Decimal("1234.50"),
        datetime.date(2026, 11, 30),
    )
    assert (seen.figures_as_of, seen.spend_12m, seen.last_order_at) == (None, Decimal("0"), None)
    tiering_settings.refresh_from_db()
    assert tiering_settings.last_sweep_at == NOW
    assert tasks.reevaluate_sweep.apply().get() == 0  # nothing new since


def test_the_sweep_expires_the_overrides_whose_day_has_come(strong, manager, admin_user, tiers, tiering_settings):
    other = strong_customer(manager)
    run_now(RUN_DAY)  # both VIP by their scores
    with time_machine.travel(NOW - datetime.timedelta(days=10), tick=False):
        services.override_set(customer=strong, tier="potential", reason="Trial", expires_on=TODAY, set_by=admin_user)
        services.override_set(
            customer=other,
            tier="core",
            reason="Trial",
            expires_on=TODAY + datetime.timedelta(days=1),
            set_by=admin_user,
        )

    with translation.override("en"):
        tasks.reevaluate_sweep.apply().get()

    strong.refresh_from_db()
    other.refresh_from_db()
    assert (strong.tier, strong.computed_tier) == (tiers["vip"], tiers["vip"])  # back to its computed tier
    assert not TierOverride.objects.filter(customer=strong).exists()
    expired = TierOverride.history.filter(customer_id=strong.pk).order_by("history_id").last()
    assert (expired.history_type, expired.history_change_reason) == ("-", "Manual tier expired")
    change = TierChange.objects.filter(customer=strong).order_by("id").last()
    assert (change.run, change.from_tier, change.to_tier, change.direction) == (
        None,
        tiers["potential"],
        tiers["vip"],
        TierChange.Direction.UPGRADE,
    )
    assert change.reasons == [{"override": "Manual tier expired", "by": None}]
    # An override whose day is tomorrow stays.
    assert other.tier == tiers["core"]
    assert TierOverride.objects.get(customer=other).expires_on == TODAY + datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("idle", "status"),
    [
        (tasks.STALLED_RUN_IDLE + datetime.timedelta(minutes=1), TierRun.Status.FAILED),
        (tasks.STALLED_RUN_IDLE - datetime.timedelta(minutes=1), TierRun.Status.RUNNING),
    ],
)
def test_the_sweep_fails_the_runs_stalled_longer_than_the_idle_limit(strong, tiering_settings, idle, status):
    run = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, enqueue=False)
    last_progress = NOW - idle
    TierRun.objects.filter(pk=run.pk).update(
        status=TierRun.Status.RUNNING, created_at=last_progress - datetime.timedelta(hours=1), started_at=last_progress
    )

    with translation.override("en"):
        tasks.reevaluate_sweep.apply().get()

    run.refresh_from_db()
    assert run.status == status
    if status == TierRun.Status.FAILED:
        minutes = int(tasks.STALLED_RUN_IDLE.total_seconds() // 60)
        assert run.error == (
            f"No progress for {minutes} minutes (workers or the database were unavailable); resume the run."
        )
        assert run.finished_at == NOW
    else:
        assert (run.error, run.finished_at) == ("", None)
