"""The service-commitments rows of `make bench` (bench/harness.py calls these after its own rows).

9. The SLA sweep (one tick of `commitments.tasks.sla_sweep`) over 100,000 open cases written with
   COPY, in two scenarios: a steady tick (2% of the cases past their reminder, 1% past their
   first-response deadline: half an hour of cases crossing a threshold) held to the 2 s target,
   and a sweep catching up after an outage (10% and 5%), reported. Before each repetition the stamps
   are cleared and the sweep's notices deleted, so every repetition reminds and breaches the same
   cases. Timed in a fresh process (its notices are logged after commit, as in production); a
   second tick right after, with nothing due, is timed too.
10. The results per tier and quarter, `GET /api/v1/results/` (the last four quarters) and the results
   page when the web layer has one: computed (the cache cleared before each request) and as
   served within its ten-minute cache, p50/p95 and queries, as an administrator and as an account
   manager. The tier at each quarter's first day comes from a full tier run as of that day, written
   here in SQL from the customers' current tiers (the benchmark's own re-tier is as of today), with
   20,000 playbook tasks due over those quarters.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.harness --only sweep,results --no-report
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bench.generate import _next_id, _sequences_sync, _Writer
from bench.harness import ROOT, Results, _client, _percentile
from commitments.models import Case
from commitments.results import quarters_default
from core.clock import local_today
from crm.models import Customer
from scoring.models import ScoringProfile, Tier
from service.models import Task
from tiering.models import Notice, TierRun

OPEN_CASES = 100_000
REMINDER_SHARE = 0.10  # past their reminder (80% of the response time)
BREACH_SHARE = 0.05  # of which past their deadline
PLAYBOOK_TASKS = 20_000
SWEEP_TARGET_SECONDS = 2.0
LIST_BUDGET_SECONDS = 0.1  # the list pages' budget: p95 < 100 ms
BENCH_PERIOD_PREFIX = "bench@"  # period is 16 characters at most


# --- 9. the SLA sweep ----------------------------------------------------------------------------


def cases_generate(*, count: int = OPEN_CASES, seed: int = 11, now: datetime.datetime | None = None) -> int:
    """Write `count` open, unanswered cases for random customers with COPY (executemany elsewhere):
    REMINDER_SHARE of them past their reminder, BREACH_SHARE past their deadline. Returns how many
    are past their reminder."""
    now = now or timezone.now()
    rng = np.random.default_rng(seed)
    customers = np.array(
        Customer.objects.exclude(account_manager__isnull=True).order_by("id").values_list("id", "account_manager_id"),
        dtype=np.int64,
    )
    if not len(customers):
        raise SystemExit("no customers with an account manager: run bench.generate first")
    minutes_of = dict(Tier.objects.values_list("pk", "first_response_minutes"))
    tiers = dict(Customer.objects.filter(tier__isnull=False).values_list("pk", "tier_id"))
    pick = customers[rng.integers(0, len(customers), count)]
    tier_ids = [tiers.get(int(pk)) for pk in pick[:, 0]]
    minutes = np.array([minutes_of.get(t, 24 * 60) for t in tier_ids], dtype=np.float64)
    # The share of its response time each case has used: most are well inside it.
    draw = rng.random(count)
    used = np.where(
        draw < BREACH_SHARE,
        1.0 + rng.random(count) * 2,
        np.where(draw < REMINDER_SHARE, 0.8 + rng.random(count) * 0.19, rng.random(count) * 0.79),
    )
    stamp = np.datetime64(now.astimezone(datetime.UTC).replace(tzinfo=None), "s")
    opened = stamp - (used * minutes * 60).astype("timedelta64[s]")
    due = opened + (minutes * 60).astype("timedelta64[s]")
    reminder = opened + (minutes * 48).astype("timedelta64[s]")  # 80% of the minutes, in seconds

    def moments(values: np.ndarray) -> list[str]:
        return [f"{value}+00:00" for value in values.astype(str).tolist()]

    now_text = now.isoformat()
    with transaction.atomic(), connection.cursor() as cursor:
        first = _next_id(cursor, "commitments_case")
        _Writer(connection).write(
            "commitments_case",
            [
                "id",
                "customer_id",
                "kind",
                "severity",
                "channel",
                "subject",
                "description",
                "owner_id",
                "status",
                "opened_at",
                "resolution",
                "satisfaction",
                "tier_id",
                "response_minutes",
                "clock",
                "first_response_due_at",
                "reminder_at",
                "updated_at",
            ],
            [
                np.arange(first, first + count, dtype=np.int64),
                pick[:, 0],
                np.array(["request", "complaint", "incident"])[rng.integers(0, 3, count)],
                rng.integers(1, 5, count),
                np.full(count, "phone"),
                [f"Bench case {n}" for n in range(first, first + count)],
                [""] * count,
                pick[:, 1],
                np.full(count, "open"),
                moments(opened),
                [""] * count,
                [""] * count,
                tier_ids,
                minutes.astype(np.int64),
                np.full(count, "24x7"),
                moments(due),
                moments(reminder),
                [now_text] * count,
            ],
        )
        _sequences_sync(connection, ["commitments_case"])
    _analyze(["commitments_case"])
    return int((used >= 0.8).sum())


def _analyze(tables: list[str]) -> None:
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"VACUUM ANALYZE {table}")  # fixed table names


def sweep_reset() -> None:
    """Before a repetition: no case reminded or breached yet, none of the sweep's notices kept."""
    with transaction.atomic():
        Case.objects.filter(reminded_at__isnull=False).update(reminded_at=None)
        Case.objects.filter(breached_at__isnull=False).update(breached_at=None)
        Notice.objects.filter(kind__in=[Notice.Kind.CASE_REMINDER, Notice.Kind.CASE_BREACH]).delete()
    _analyze(["commitments_case", "tiering_notice"])


def cases_schedule(*, reminder_share: float, breach_share: float, now: datetime.datetime | None = None) -> None:
    """Move every open case's opening (and so its reminder and deadline) so that `reminder_share`
    of them are past their reminder and `breach_share` past their deadline at `now`; which cases,
    by a hash of their id. PostgreSQL (the benchmark's database)."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commitments_case AS c SET opened_at = t.opened, "
            "reminder_at = t.opened + c.response_minutes * interval '48 seconds', "
            "first_response_due_at = t.opened + c.response_minutes * interval '1 minute' "
            "FROM (SELECT id, %(now)s - response_minutes * interval '1 minute' * CASE "
            "WHEN u < %(breach)s THEN 1.0 + u "
            "WHEN u < %(reminder)s THEN 0.8 + 0.19 * (u - %(breach)s) / (%(reminder)s - %(breach)s) "
            "ELSE 0.79 * (u - %(reminder)s) / (1 - %(reminder)s) END AS opened "
            "FROM (SELECT id, response_minutes, ((id * 2654435761) %% 1000003) / 1000003.0 AS u "
            "FROM commitments_case WHERE status = 'open') AS hashed) AS t WHERE c.id = t.id",
            {"now": now, "breach": breach_share, "reminder": reminder_share},
        )
    _analyze(["commitments_case"])


SWEEP_CHILD = r"""
import json, os, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from commitments.services.sla import sla_sweep
started = time.perf_counter()
first = sla_sweep()
middle = time.perf_counter()
second = sla_sweep()
done = time.perf_counter()
print(json.dumps({"seconds": middle - started, "reminded": first.reminded, "breached": first.breached,
                  "again_seconds": done - middle, "again": second.reminded + second.breached}))
"""


def sweep_once() -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", SWEEP_CHILD], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"SLA sweep failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


SCENARIOS = [
    # (label, past the reminder, past the deadline, held to the target): a steady tick meets the
    # cases that crossed a threshold since the last one (about 70 a minute at 100,000 open cases
    # with a day to answer); 2% / 1% is half an hour of them; 10% / 5% a sweep catching up after
    # hours without one.
    ("steady", 0.02, 0.01, True),
    ("catching up after an outage", REMINDER_SHARE, BREACH_SHARE, False),
]


def measure_sla_sweep(results: Results, *, repetitions: int, count: int = OPEN_CASES) -> None:
    open_now = Case.objects.filter(status__in=["open", "in_progress"]).count()
    if open_now < count:
        cases_generate(count=count - open_now)
    open_now = Case.objects.filter(status__in=["open", "in_progress"]).count()
    for label, reminder_share, breach_share, held in SCENARIOS:
        cases_schedule(reminder_share=reminder_share, breach_share=breach_share)
        outcomes = []
        for _ in range(repetitions):
            sweep_reset()
            outcomes.append(sweep_once())
        median = statistics.median(o["seconds"] for o in outcomes)
        last = outcomes[-1]
        notices = Notice.objects.filter(kind__in=[Notice.Kind.CASE_REMINDER, Notice.Kind.CASE_BREACH]).count()
        results.raw.setdefault("sla_sweep", {})[label] = outcomes
        again = statistics.median(o["again_seconds"] for o in outcomes) * 1000
        results.add(
            f"9. SLA sweep, {open_now:,} open cases, {label}: {last['reminded']:,} reminders and "
            f"{last['breached']:,} breaches due",
            f"{median:.2f} s",
            f"< {SWEEP_TARGET_SECONDS:.0f} s" if held else "",
            median < SWEEP_TARGET_SECONDS if held else None,
            f"median of {repetitions} ticks, each in a fresh process; {notices:,} notices written and logged "
            f"per tick; the next tick (nothing due) {again:.0f} ms",
        )


# --- 10. results per tier and quarter -------------------------------------------------------------


def quarter_history_generate(*, today: datetime.date, playbook_tasks: int = PLAYBOOK_TASKS, seed: int = 13) -> int:
    """A full, successful tier run as of each of the last four quarters' first days, with every
    customer's assignment (their current tier, the lowest for those without one), in SQL; and
    playbook tasks due over those quarters, with COPY. PostgreSQL only (array columns). Returns
    the assignment rows written."""
    if connection.vendor != "postgresql":
        return 0
    quarters = quarters_default(today)
    profile = ScoringProfile.objects.filter(is_default=True).first() or ScoringProfile.objects.first()
    lowest = Tier.objects.order_by("-rank").values_list("pk", flat=True).first()
    written = 0
    for quarter in quarters:
        period = f"{BENCH_PERIOD_PREFIX}{quarter.label}"
        if TierRun.objects.filter(period=period).exists():
            continue
        run = TierRun.objects.create(
            period=period,
            as_of=quarter.start,
            status=TierRun.Status.SUCCEEDED,
            scope=TierRun.Scope.ALL,
            trigger=TierRun.Trigger.MANUAL,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tiering_tierassignment (run_id, customer_id, score, computed_tier_id, tier_id, "
                "previous_tier_id, previous_score, profile_id, profile_version, lifecycle, metric_values, "
                "point_values, overridden, runs_below_threshold, flags, created_at) "
                "SELECT %s, c.id, COALESCE(c.score, 0), COALESCE(c.tier_id, %s), COALESCE(c.tier_id, %s), NULL, "
                "NULL, %s, %s, '', '{}'::float8[], '{}'::float8[], false, 0, '[]', now() FROM crm_customer c "
                "WHERE c.cooperation_since IS NOT NULL",
                [run.pk, lowest, lowest, profile.pk, profile.version],
            )
            written += cursor.rowcount
    if not Task.objects.filter(source=Task.Source.PLAYBOOK).exists():
        _playbook_tasks_generate(quarters, count=playbook_tasks, seed=seed)
    _analyze(["tiering_tierrun", "tiering_tierassignment", "service_task"])
    return written


def _playbook_tasks_generate(quarters, *, count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    customers = np.array(
        Customer.objects.exclude(account_manager__isnull=True).order_by("id").values_list("id", "account_manager_id"),
        dtype=np.int64,
    )
    pick = customers[rng.integers(0, len(customers), count)]
    start = np.datetime64(quarters[0].start.isoformat(), "s")
    span = (np.datetime64(timezone.now().astimezone(datetime.UTC).replace(tzinfo=None), "s") - start).astype(int)
    due = start + (rng.random(count) * span).astype("timedelta64[s]")
    done = rng.random(count) < 0.7
    late = rng.random(count) < 0.25
    completed = due + np.where(late, 1, -1) * (rng.random(count) * 3 * 86400).astype("timedelta64[s]")
    now_text = timezone.now().isoformat()
    with transaction.atomic(), connection.cursor() as cursor:
        first = _next_id(cursor, "service_task")
        _Writer(connection).write(
            "service_task",
            [
                "id",
                "customer_id",
                "title",
                "owner_id",
                "due_at",
                "priority",
                "status",
                "source",
                "contact_kind",
                "step",
                "note",
                "completion_note",
                "created_at",
                "completed_at",
                "updated_at",
            ],
            [
                np.arange(first, first + count, dtype=np.int64),
                pick[:, 0],
                np.full(count, "Win-back call"),
                pick[:, 1],
                [f"{value}+00:00" for value in due.astype(str).tolist()],
                np.full(count, 3),
                np.where(done, "done", "open"),
                np.full(count, "playbook"),
                np.full(count, "call"),
                np.full(count, "playbook:0"),
                [""] * count,
                [""] * count,
                [now_text] * count,
                [
                    f"{c}+00:00" if d else None
                    for c, d in zip(completed.astype(str).tolist(), done.tolist(), strict=True)
                ],
                [now_text] * count,
            ],
        )
        _sequences_sync(connection, ["service_task"])


def _timed(client, url: str, requests: int, *, cold: bool) -> tuple[float, float, int]:
    """p50, p95 and the queries of the first request (cold: the cache cleared before each)."""
    cache.clear()
    connection.queries_log.clear()  # a request resets the log: counted from an empty one
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = len(captured)  # now: the next request resets the log the context reads
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:200]!r}")
    timings = []
    for _ in range(requests):
        if cold:
            cache.clear()
        started = time.perf_counter()
        client.get(url)
        timings.append(time.perf_counter() - started)
    return _percentile(timings, 0.5), _percentile(timings, 0.95), queries


def measure_results(results: Results, *, requests: int, cold_requests: int = 5) -> None:
    written = quarter_history_generate(today=local_today())
    if written:
        print(f"  (tier history at four quarter starts: {written:,} assignments)", flush=True)
    user_model = get_user_model()
    admin, _created = user_model.objects.get_or_create(
        username="bench_admin", defaults={"is_staff": True, "is_superuser": True}
    )
    manager = user_model.objects.filter(username__startswith="bench_manager_").order_by("id").first()
    targets = [("GET /api/v1/results/", "/api/v1/results/")]
    page = _results_page_url()
    if page:
        targets.append(("results page", page))
    else:
        results.add(
            "10. results page",
            "not available",
            f"p95 < {LIST_BUDGET_SECONDS * 1000:.0f} ms",
            None,
            "the web layer has no results page yet; the API below computes the same figures",
        )
    for who, user in [("admin", admin), ("manager", manager)]:
        if user is None:
            continue
        client = _client(user)
        for label, url in targets:
            cold50, cold95, queries = _timed(client, url, cold_requests, cold=True)
            warm50, warm95, _queries = _timed(client, url, requests, cold=False)
            results.raw.setdefault("results", []).append(
                {"label": label, "who": who, "cold": [cold50, cold95], "cached": [warm50, warm95], "queries": queries}
            )
            results.add(
                f"10. {label} ({who}), last 4 quarters, computed",
                f"p50 {cold50 * 1000:,.0f} / p95 {cold95 * 1000:,.0f} ms",
                note=f"{queries} queries in the request (one per figure, none per customer); the cache cleared "
                f"before each of {cold_requests} requests",
            )
            results.add(
                f"10. {label} ({who}), last 4 quarters, as served (10-minute cache)",
                f"p50 {warm50 * 1000:.0f} / p95 {warm95 * 1000:.0f} ms",
                f"p95 < {LIST_BUDGET_SECONDS * 1000:.0f} ms",
                warm95 < LIST_BUDGET_SECONDS,
                f"{requests} requests",
            )


def _results_page_url() -> str | None:
    for name in ("web:results", "web:results_page", "web:results-page"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None
