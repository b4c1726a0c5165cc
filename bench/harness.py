"""Measure the product on the data set bench/generate.py wrote, print a table, write docs/performance.md.

Every figure is the median of several repetitions on the same data; nothing is cached between
repetitions that the product would not cache itself. Run through `bench/run` (which starts a
throw-away PostgreSQL), or against any database with DATABASE_URL set:

    DEBUG=1 DATABASE_URL=postgres://... .venv/bin/python -m bench.harness
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "performance.md"
BEGIN = "<!-- bench:results -->"
END = "<!-- /bench:results -->"


@dataclass
class Row:
    name: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: informative, no target
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    raw: dict[str, object] = field(default_factory=dict)

    def add(self, *args, **kwargs) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        mark = {True: "ok", False: "MISSED", None: ""}[row.ok]
        print(f"  {row.name:<58} {row.value:>22}  {row.target:<16} {mark} {row.note}", flush=True)
        return row


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _median_time(function, repetitions: int, before=None) -> tuple[float, list[float]]:
    timings = []
    for _ in range(repetitions):
        if before:
            before()
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), timings


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered) + 0.5)) - 1))]


# --- 1. the floor ------------------------------------------------------------------------------

FLOOR_SQL = (
    "SELECT customer_id, SUM(amount), COUNT(*) FROM crm_order "
    "WHERE ordered_at > %s AND ordered_at <= %s GROUP BY customer_id"
)


def measure_floor(results: Results, *, as_of: datetime.date, repetitions: int) -> float:
    """The bare 12-month aggregate per customer, PostgreSQL's own plan, rows fetched to the client."""
    from django.db import connection

    from scoring.metrics import window_start  # project code loads once main() has set Django up

    params = [window_start(as_of), as_of]

    def run():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, params)
            return len(cursor.fetchall())

    run()  # warm the cache once, as a live database would be
    median, timings = _median_time(run, repetitions)
    results.raw["floor"] = timings
    results.add("1. floor: bare 12-month aggregate (PostgreSQL's plan)", f"{median:.3f} s", note="= 1.0×")
    return median


# --- 2. the product's re-tier ------------------------------------------------------------------

RETIER_CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.core.management import call_command
args = json.loads(sys.argv[1])
started = time.perf_counter()
call_command("retier", *args)
elapsed = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command's chunk worker processes
print(json.dumps({
    "seconds": elapsed,
    "max_rss_kib": usage.ru_maxrss,
    "worker_max_rss_kib": workers.ru_maxrss,
    "cpu_seconds": usage.ru_utime + usage.ru_stime + workers.ru_utime + workers.ru_stime,
}))
"""


def _retier_available() -> bool:
    from django.core.management import get_commands

    return "retier" in get_commands()


def _tier_state_snapshot() -> None:
    """Keep the customers' standing after the warm-up run, to restore before each timed run."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_tier_state")
        cursor.execute(
            "CREATE TABLE bench_tier_state AS SELECT id, tier_id, computed_tier_id, score, spend_12m, "
            "runs_below_threshold, lifecycle, flags, last_order_at, tiered_at FROM crm_customer"
        )


def _tier_state_restore(perturb_every: int) -> None:
    """Restore the snapshot, then move every `perturb_every`-th customer one tier up or down, so
    each timed run meets the same last-quarter standing and writes the same share of changes.
    Every stored score and spend is also set 0.01 off, so the run changes every customer's score
    and spend as a real quarter does (tenure alone moves the score), rather than rewriting the
    values a row already holds."""
    from django.db import connection

    from scoring.models import Tier  # project code loads once main() has set Django up

    tier_ids = list(Tier.objects.order_by("rank").values_list("id", flat=True))
    shift = " ".join(
        f"WHEN {tier_id} THEN {tier_ids[index + 1] if index + 1 < len(tier_ids) else tier_ids[index - 1]}"
        for index, tier_id in enumerate(tier_ids)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_customer c SET tier_id = s.tier_id, computed_tier_id = s.computed_tier_id, "
            "score = CASE WHEN s.score >= 0.01 THEN s.score - 0.01 ELSE s.score + 0.01 END, "
            "spend_12m = s.spend_12m + 0.01, runs_below_threshold = s.runs_below_threshold, lifecycle = s.lifecycle, "
            "flags = s.flags, last_order_at = s.last_order_at, tiered_at = s.tiered_at "
            "FROM bench_tier_state s WHERE c.id = s.id"
        )
        cursor.execute(
            f"UPDATE crm_customer SET tier_id = CASE tier_id {shift} END, "  # noqa: S608 - ids from the database
            f"computed_tier_id = CASE computed_tier_id {shift} END "
            f"WHERE id % {int(perturb_every)} = 0 AND tier_id IS NOT NULL AND computed_tier_id IS NOT NULL"
        )
        cursor.execute("DELETE FROM tiering_tierrunchunk WHERE run_id IN (SELECT id FROM tiering_tierrun)")
        cursor.execute("VACUUM ANALYZE crm_customer") if connection.vendor == "postgresql" else None


def _retier_once(args: list[str]) -> dict:
    env = dict(os.environ)
    completed = subprocess.run(
        [sys.executable, "-c", RETIER_CHILD, json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"retier failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure_retier(results: Results, *, floor: float, customers: int, repetitions: int, retier_args: list[str]):
    """The product's full re-tier, end to end, each repetition a real forced run in a fresh process."""
    from django.db import connection

    from tiering.models import TierAssignment, TierChange, TierRun  # project code loads once main() has set Django up

    if not _retier_available():
        results.add(
            "2. full re-tier (manage.py retier)",
            "not available",
            "≤ 4× floor",
            False,
            "the retier command is not in this tree yet",
        )
        return None
    warm = _retier_once(retier_args)  # last quarter's run: gives every customer a standing
    print(f"  (warm-up run: {warm['seconds']:.2f} s)", flush=True)
    _tier_state_snapshot()
    timings, memory, changes, cpu = [], [], [], []
    for _ in range(repetitions):
        _tier_state_restore(perturb_every=5)
        before = TierChange.objects.count()
        outcome = _retier_once(retier_args)
        timings.append(outcome["seconds"])
        # The command's own process plus its worker processes, each at its own peak (an upper bound).
        workers = min(os.cpu_count() or 1, 4) if outcome.get("worker_max_rss_kib") else 0
        memory.append(outcome["max_rss_kib"] + workers * outcome.get("worker_max_rss_kib", 0))
        cpu.append(outcome["cpu_seconds"])
        changes.append(TierChange.objects.count() - before)
    last_run = TierRun.objects.order_by("-id").first()
    assignments = TierAssignment.objects.filter(run=last_run).count() if last_run else 0
    median = statistics.median(timings)
    results.raw["retier"] = {"warm_up": warm, "seconds": timings, "max_rss_kib": memory, "changes": changes}
    ratio = median / floor if floor else float("nan")
    results.add(
        "2. full re-tier, end to end (median of forced runs)",
        f"{median:.2f} s",
        "≤ 4× floor",
        ratio <= 4,
        f"= {ratio:.1f}× floor; {customers / median:,.0f} customers/s; {assignments:,} assignment rows, "
        f"~{statistics.median(changes):,.0f} changes per run; the Python processes used "
        f"{statistics.median(cpu):.1f} s of CPU (start-up included); the rest of the wall time it waited for PostgreSQL or for a shared CPU",
    )
    peak = max(memory) / 1024
    results.add(
        "4. peak memory of the re-tier (command and worker processes, each at its peak)",
        f"{peak:,.0f} MiB",
        "< 1024 MiB at 1M",
        peak < 1024,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_tier_state")
    return median


# --- 2b. the required writes alone -------------------------------------------------------------

WRITES_SQL = (
    # One session's share: the orders aggregate, then the rows the target counts.
    "CREATE TEMPORARY TABLE bench_writes ON COMMIT DROP AS SELECT c.id, COALESCE(o.spend, 0)::float8 AS spend, "
    "COALESCE(o.orders, 0) AS orders FROM crm_customer c LEFT JOIN (SELECT customer_id, SUM(amount) AS spend, "
    "COUNT(*) AS orders FROM crm_order WHERE ordered_at > %(start)s AND ordered_at <= %(as_of)s "
    "AND customer_id BETWEEN %(first)s AND %(last)s GROUP BY customer_id) o ON o.customer_id = c.id "
    "WHERE c.id BETWEEN %(first)s AND %(last)s;"
    "UPDATE crm_customer c SET score = LEAST(100, w.orders * 2 + w.spend / 10000)::numeric(5,2), "
    "spend_12m = w.spend::numeric(16,2), tiered_at = now() FROM bench_writes w "
    "WHERE c.id = w.id AND c.id BETWEEN %(first)s AND %(last)s;"
    "INSERT INTO tiering_tierassignment (run_id, customer_id, score, computed_tier_id, tier_id, previous_tier_id, "
    "previous_score, profile_id, profile_version, lifecycle, metric_values, point_values, overridden, "
    "runs_below_threshold, flags, created_at) SELECT -1, w.id, LEAST(100, w.orders * 2 + w.spend / 10000)::numeric(5,2), "
    "%(tier)s, %(tier)s, %(tier)s, 50, %(profile)s, 1, 'active', array_fill(w.spend, ARRAY[%(width)s]), "
    "array_fill(w.orders::float8, ARRAY[%(width)s]), false, 0, '[]', now() FROM bench_writes w"
)


def measure_required_writes(results: Results, *, as_of: datetime.date, floor: float, repetitions: int) -> None:
    """What PostgreSQL alone needs for the rows the re-tier target counts: the 12-month orders
    aggregate, every customer row rewritten and one history row per customer with snapshot arrays
    of the product's width, in bare SQL, one session per CPU over slices of the customers as the
    product's chunks are; rolled back. No other metric, no change, no notice, no Python work."""
    import threading

    from django.db import connection, connections, transaction

    from crm.models import Customer  # project code loads once main() has set Django up
    from scoring.metrics import window_start  # project code loads once main() has set Django up
    from scoring.models import ScoringProfile, Tier  # project code loads once main() has set Django up
    from tiering.models import metric_keys_default  # project code loads once main() has set Django up

    if connection.vendor != "postgresql":
        return
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
    tier, profile = Tier.objects.order_by("rank").first(), ScoringProfile.objects.first()
    if not ids or tier is None or profile is None:
        return
    sessions = min(os.cpu_count() or 1, 4)
    step = -(-len(ids) // sessions)
    common = {"start": window_start(as_of), "as_of": as_of, "tier": tier.pk, "profile": profile.pk}
    common["width"] = len(metric_keys_default())
    slices = [(ids[n], ids[min(n + step, len(ids)) - 1]) for n in range(0, len(ids), step)]

    written: list[int] = []
    errors: list[BaseException] = []

    def session(first: int, last: int) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(WRITES_SQL, {**common, "first": first, "last": last})
                written.append(cursor.rowcount)  # the history rows
                raise _Rollback
        except _Rollback:
            pass
        except BaseException as exc:  # reported by the caller: a thread's exception is lost otherwise
            errors.append(exc)
        finally:
            connections.close_all()

    def run():
        written.clear()
        threads = [threading.Thread(target=session, args=bounds) for bounds in slices]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    median, timings = _median_time(run, repetitions)
    results.raw["required_writes"] = timings
    results.add(
        "2b. the required writes alone, in bare SQL (for comparison)",
        f"{median:.2f} s",
        note=f"= {median / floor:.1f}× floor: the orders aggregate, every customer row rewritten, "
        f"{sum(written):,} history rows; {len(slices)} sessions in parallel, rolled back; no other metric, "
        "change, notice or Python work",
    )


# --- 3. the per-customer ORM reference ---------------------------------------------------------


class _Rollback(Exception):
    pass


def measure_orm_reference(
    results: Results, *, as_of: datetime.date, customers: int, sample: int, retier_seconds: float | None
):
    """What a naive implementation does: per customer, aggregate its orders and surveys, score it,
    save() it and write its history row. Timed on a sample and extrapolated; rolled back."""
    from django.db import transaction
    from django.db.models import Avg, Count, Sum

    from crm.models import Customer  # project code loads once main() has set Django up
    from scoring import engine  # project code loads once main() has set Django up
    from scoring.metrics import window_start  # project code loads once main() has set Django up
    from scoring.selectors import profiles_load, tiers_load  # project code loads once main() has set Django up
    from tiering.models import TierAssignment, TierRun  # project code loads once main() has set Django up

    profiles = profiles_load()
    tiers = tiers_load()
    start = window_start(as_of)
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True)[:sample])
    elapsed = 0.0
    try:
        with transaction.atomic():
            run = TierRun.objects.create(period="bench-reference", as_of=as_of, status="succeeded", dry_run=True)
            started = time.perf_counter()
            for customer_id in ids:
                customer = Customer.objects.select_related("industry").get(pk=customer_id)
                orders = customer.orders.filter(ordered_at__gt=start, ordered_at__lte=as_of).aggregate(
                    spend=Sum("amount"), count=Count("id")
                )
                surveys = customer.surveys.filter(surveyed_at__gt=start, surveyed_at__lte=as_of).aggregate(
                    mean=Avg("score")
                )
                spend = float(orders["spend"] or 0)
                count = orders["count"]
                tenure = (as_of - customer.cooperation_since).days / 365.25 if customer.cooperation_since else 0.0
                metrics = {
                    "spend_12m": spend,
                    "orders_12m": float(count),
                    "avg_order_value_12m": spend / count if count else 0.0,
                    "tenure_years": max(tenure, 0.0),
                    "satisfaction_12m": None if surveys["mean"] is None else float(surveys["mean"]),
                    "strategic_potential": 10.0
                    if customer.industry.strategic
                    else float(customer.potential_rating or 0),
                }
                profile = engine.match_profile(customer.customer_type, customer.industry_id, profiles)
                result = engine.score_one(profile, metrics, tiers.specs)
                tier = tiers.by_code[result.tier]
                previous_tier_id, previous_score = customer.tier_id, customer.score
                customer.score = result.total
                customer.tier = tier
                customer.computed_tier = tier
                customer.spend_12m = round(spend, 2)
                customer.save()
                TierAssignment.objects.create(
                    run=run,
                    customer=customer,
                    score=result.total,
                    computed_tier=tier,
                    tier=tier,
                    previous_tier_id=previous_tier_id,
                    previous_score=previous_score,
                    profile_id=profile.id,
                    profile_version=profile.version,
                    metrics=metrics,
                    points=result.points_by_metric(),
                )
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    projected = elapsed / len(ids) * customers
    results.raw["orm_reference"] = {"sample": len(ids), "seconds": elapsed, "projected": projected}
    if retier_seconds:
        speedup = projected / retier_seconds
        results.add(
            f"3. per-customer ORM reference ({len(ids):,} sampled, extrapolated)",
            f"{projected:,.0f} s",
            "≥ 50× slower",
            speedup >= 50,
            f"re-tier is {speedup:,.0f}× faster",
        )
    else:
        results.add(f"3. per-customer ORM reference ({len(ids):,} sampled, extrapolated)", f"{projected:,.0f} s")


# --- 5. lists ----------------------------------------------------------------------------------


def _client(user):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def _latency(client, url: str, requests: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    queries = len(captured)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
    return _percentile(timings, 0.5), _percentile(timings, 0.95), queries, response.status_code


def measure_lists(results: Results, *, requests: int) -> None:
    """Customer list page and API list, filtered by tier, sorted by score: as an admin (sees every
    customer) and as an account manager (sees their own)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from crm.models import Customer  # project code loads once main() has set Django up
    from scoring.models import Tier  # project code loads once main() has set Django up

    user_model = get_user_model()
    admin, _created = user_model.objects.get_or_create(
        username="bench_admin", defaults={"is_staff": True, "is_superuser": True}
    )
    manager = user_model.objects.filter(username__startswith="bench_manager_").order_by("id").first()
    tier = Tier.objects.order_by("rank")[2] if Tier.objects.count() > 2 else Tier.objects.first()
    tiered = Customer.objects.filter(tier=tier).count()
    targets = [
        ("customer list page", f"/customers/?tier={tier.code}&sort=-score"),
        ("GET /api/v1/customers/", f"/api/v1/customers/?tier={tier.code}&ordering=-score"),
    ]
    for who, user in [("admin", admin), ("manager", manager)]:
        client = _client(user)
        for label, url in targets:
            try:
                p50, p95, queries, _status = _latency(client, url, requests)
            except Exception as exc:  # noqa: BLE001 - report what is missing instead of stopping
                results.add(f"5. {label} ({who})", "not available", "p95 < 100 ms", False, str(exc)[:80])
                continue
            results.raw.setdefault("lists", []).append(
                {"label": label, "who": who, "url": url, "p50": p50, "p95": p95, "queries": queries}
            )
            results.add(
                f"5. {label} ({who}, tier={tier.code}: {tiered:,} rows)",
                f"p50 {p50 * 1000:.0f} / p95 {p95 * 1000:.0f} ms",
                "p95 < 100 ms",
                p95 < 0.1,
                f"{queries} queries",
            )
    # Lists sort a tier's rows on the fly (no index holds the score): also the largest tier.
    largest = Customer.objects.order_by().values("tier").annotate(n=Count("id")).order_by("-n").first()
    if largest and largest["tier"] is not None:
        code = Tier.objects.get(pk=largest["tier"]).code
        url = f"/api/v1/customers/?tier={code}&ordering=-score"
        p50, p95, queries, _status = _latency(_client(admin), url, requests)
        results.raw.setdefault("lists", []).append(
            {"label": "GET /api/v1/customers/ largest tier", "who": "admin", "url": url, "p50": p50, "p95": p95}
        )
        results.add(
            f"5. GET /api/v1/customers/ (admin, tier={code}: {largest['n']:,} rows)",
            f"p50 {p50 * 1000:.0f} / p95 {p95 * 1000:.0f} ms",
            "p95 < 100 ms",
            p95 < 0.1,
            f"{queries} queries",
        )


# --- 6. order ingest ---------------------------------------------------------------------------


def ingest_timings(*, as_of: datetime.date, batches: int, batch_size: int = 1000) -> list[float]:
    """Seconds per POST /api/v1/orders/ of `batch_size` new orders for existing customers."""
    import random

    from django.contrib.auth import get_user_model

    from crm.models import Customer  # project code loads once main() has set Django up

    admin, _created = get_user_model().objects.get_or_create(
        username="bench_admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = _client(admin)
    codes = list(Customer.objects.order_by("?").values_list("code", flat=True)[:5000])
    rng = random.Random(7)
    stamp = time.time_ns()
    timings = []
    for batch in range(batches + 1):  # the first request warms imports and is not counted
        rows = [
            {
                "customer": rng.choice(codes),
                "amount": f"{rng.lognormvariate(7, 0.8):.2f}",
                "ordered_at": as_of.isoformat(),
                "source": "bench",
                "external_ref": f"B{stamp}-{batch}-{index}",
            }
            for index in range(batch_size)
        ]
        body = json.dumps(rows)
        started = time.perf_counter()
        response = client.post("/api/v1/orders/", body, content_type="application/json")
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/v1/orders/ answered {response.status_code}: {response.content[:200]!r}")
        if batch:
            timings.append(elapsed)
    return timings


INGEST_CHILD = r"""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
import datetime
from bench.harness import ingest_timings
args = json.loads(sys.argv[1])
print(json.dumps(ingest_timings(as_of=datetime.date.fromisoformat(args["as_of"]), batches=args["batches"])))
"""


def measure_ingest(results: Results, *, as_of: datetime.date, batches: int, batch_size: int = 1000) -> None:
    """POST /api/v1/orders/ in batches of 1,000: with the re-evaluation of the touched customers
    queued to a Redis broker (production), and run inline (the embedded default, eager Celery)."""
    variants = [("re-evaluation queued to Redis", os.environ.get("BENCH_BROKER_URL", ""))]
    variants.append(("re-evaluation inline, eager Celery", ""))
    for label, broker in variants:
        name = f"6. order ingest, POST /api/v1/orders/ ({batches} × {batch_size:,}), {label}"
        if label.startswith("re-evaluation queued") and not broker:
            results.add(name, "not measured", "≥ 5,000 orders/s", None, "set BENCH_BROKER_URL (bench/run does)")
            continue
        env = dict(os.environ)
        if broker:
            env["CELERY_BROKER_URL"] = broker
        else:
            env.pop("CELERY_BROKER_URL", None)
        completed = subprocess.run(
            [sys.executable, "-c", INGEST_CHILD, json.dumps({"as_of": as_of.isoformat(), "batches": batches})],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            results.add(name, "failed", "≥ 5,000 orders/s", False, completed.stderr.strip().splitlines()[-1][:100])
            continue
        timings = json.loads(completed.stdout.strip().splitlines()[-1])
        rate = batch_size / statistics.median(timings)
        results.raw.setdefault("ingest", {})[label] = timings
        results.add(name, f"{rate:,.0f} orders/s", "≥ 5,000 orders/s", rate >= 5000)


# --- 7. simulation -----------------------------------------------------------------------------


def measure_simulation(results: Results, *, as_of: datetime.date, repetitions: int) -> None:
    """The admin's what-if simulation (5×5 migration matrix) over every customer."""
    try:
        from scoring import simulation  # project code loads once main() has set Django up
    except ImportError:
        results.add(
            "7. admin simulation (5×5 matrix)",
            "not available",
            "< 5 s",
            False,
            "scoring/simulation.py is not in this tree yet",
        )
        return
    from scoring import engine  # project code loads once main() has set Django up
    from scoring.selectors import tiers_load  # project code loads once main() has set Django up

    # A realistic draft: every threshold but the lowest raised by 2 points.
    specs = [
        engine.TierSpec(code=spec.code, rank=spec.rank, min_score=spec.min_score + 2 if spec.min_score else 0.0)
        for spec in tiers_load().specs
    ]
    median, timings = _median_time(lambda: simulation.simulate(as_of=as_of, tier_specs=specs), repetitions)
    results.raw["simulation"] = timings
    results.add("7. admin simulation (5×5 migration matrix), all customers", f"{median:.2f} s", "< 5 s", median < 5)


# --- 8. the service side: contact statuses, the due list, tasks, dashboard cards -----------------


def _queries_and_seconds(function) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        function()
        elapsed = time.perf_counter() - started
    return len(captured), elapsed


def measure_service(results: Results, *, repetitions: int, requests: int) -> None:
    """The account manager's workbench at scale: every customer's contact status recomputed (what a
    run or a plan edit triggers), the overdue list and the task list through the API, and the
    dashboard's plan cards, as an administrator and as an account manager."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from crm.models import Interaction  # project code loads once main() has set Django up
    from service import selectors  # project code loads once main() has set Django up
    from service.models import ContactStatus  # project code loads once main() has set Django up
    from service.services.contact import (  # project code loads once main() has set Django up
        contact_status_refresh,
        contact_status_refresh_moved,
    )

    contact_status_refresh(None)  # the statuses as a run leaves them (bench/run's warm-up run made them)
    statuses = ContactStatus.objects.count()
    activities = Interaction.objects.count()

    user_model = get_user_model()
    admin, _created = user_model.objects.get_or_create(
        username="bench_admin", defaults={"is_staff": True, "is_superuser": True}
    )
    manager = user_model.objects.filter(username__startswith="bench_manager_").order_by("id").first()
    for who, user in [("admin", admin), ("manager", manager)]:
        client = _client(user)
        overdue = selectors.contact_due(user, state="overdue").count()
        tasks = selectors.tasks_visible_to(user).count()
        targets = [
            ("GET /api/v1/contact-due/?state=overdue", "/api/v1/contact-due/?state=overdue", f"{overdue:,} overdue"),
            ("GET /api/v1/tasks/", "/api/v1/tasks/", f"{tasks:,} tasks"),
        ]
        for label, url, rows in targets:
            p50, p95, queries, _status = _latency(client, url, requests)
            results.raw.setdefault("service", []).append(
                {"label": label, "who": who, "url": url, "p50": p50, "p95": p95, "queries": queries}
            )
            results.add(
                f"8. {label} ({who}: {rows})",
                f"p50 {p50 * 1000:.0f} / p95 {p95 * 1000:.0f} ms",
                "p95 < 100 ms",
                p95 < 0.1,
                f"{queries} queries",
            )

        def cards(user=user):
            return [card.within_plan_share for card in selectors.contact_plan_cards(user)]

        queries, _seconds = _queries_and_seconds(cards)
        timings = []
        for _ in range(max(requests // 4, 10)):
            started = time.perf_counter()
            cards()
            timings.append(time.perf_counter() - started)
        p50, p95 = _percentile(timings, 0.5), _percentile(timings, 0.95)
        results.add(
            f"8. dashboard plan cards, contact_plan_cards ({who})",
            f"p50 {p50 * 1000:.0f} / p95 {p95 * 1000:.0f} ms",
            "p95 < 100 ms",
            p95 < 0.1,
            f"{queries} queries",
        )

    # Last: rewriting statuses leaves dead index entries that the lists above would otherwise
    # meet before autovacuum comes by.
    def tiers_moved() -> None:
        """As a quarter's run leaves them: a fifth of the customers' statuses are of another tier."""
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE service_contactstatus SET tier_id = (SELECT MIN(id) FROM scoring_tier) + "
                "(tier_id + 1) % (SELECT COUNT(*) FROM scoring_tier) WHERE customer_id % 5 = 0"
            )

    def statuses_stale() -> None:
        """Every stored status differs from what the data gives: the worst case of a plan edit."""
        with connection.cursor() as cursor:
            cursor.execute("UPDATE service_contactstatus SET due_on = NULL")

    # After a run its task refreshes the customers whose tier moved (target: well inside a run's
    # own time); a plan edit queues a refresh of everyone, the worst case measured for information.
    for label, refresh, before, target in [
        ("after a run, the customers whose tier moved (a fifth)", contact_status_refresh_moved, tiers_moved, 5.0),
        (
            "every customer, every status rewritten (the worst plan edit, in a task)",
            lambda: contact_status_refresh(None),
            statuses_stale,
            None,
        ),
    ]:
        before()
        queries, _seconds = _queries_and_seconds(refresh)
        median, timings = _median_time(refresh, repetitions, before)
        results.raw.setdefault("contact_status_refresh", {})[label] = timings
        results.add(
            f"8. contact status refresh, {label}",
            f"{median:.2f} s",
            f"< {target:.0f} s" if target else "",
            median < target if target else None,
            f"{statuses:,} statuses from {activities:,} activities; {queries} queries",
        )


# --- report ------------------------------------------------------------------------------------


def machine_facts(customers: int) -> dict[str, str]:
    import django
    import numpy
    from django.db import connection

    from crm.models import (  # project code loads once main() has set Django up
        Customer,
        Interaction,
        Order,
        SatisfactionSurvey,
    )
    from service.models import Task  # project code loads once main() has set Django up

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        pass
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            database = f"{connection.vendor} {connection.Database.sqlite_version}"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores ({cpu}), {memory} RAM, {platform.system()} {platform.release()}",
        "software": f"{database}, Python {platform.python_version()}, Django {django.get_version()}, "
        f"NumPy {numpy.__version__}",
        "data": f"{Customer.objects.count():,} customers, {Order.objects.count():,} orders, "
        f"{SatisfactionSurvey.objects.count():,} surveys, {Interaction.objects.count():,} activities, "
        f"{Task.objects.count():,} tasks",
    }


def _numbered(row: Row) -> tuple[int, str]:
    """A row's place in the table: by its number ("2b." after "2."), whatever order it was measured in."""
    number = re.match(r"(\d+)([a-z]?)\.", row.name)
    return (int(number.group(1)), number.group(2)) if number else (10**6, "")


def report_markdown(results: Results) -> str:
    lines = [BEGIN, ""]
    for key, value in results.facts.items():
        lines.append(f"- **{key}:** {value}")
    lines += ["", "| measurement | result | target | holds | note |", "|---|---|---|---|---|"]
    for row in sorted(results.rows, key=_numbered):
        holds = {True: "yes", False: "**no**", None: ""}[row.ok]
        lines.append(f"| {row.name} | {row.value} | {row.target} | {holds} | {row.note} |")
    lines += ["", END]
    return "\n".join(lines)


def report_write(results: Results, path: Path) -> None:
    """Replace the results block of docs/performance.md, keeping the prose around it."""
    block = report_markdown(results)
    text = path.read_text() if path.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None, help="ignored here (the generator's size)")
    parser.add_argument("--as-of", type=datetime.date.fromisoformat, default=None)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--sample", type=int, default=5000, help="customers in the per-customer ORM reference")
    parser.add_argument("--requests", type=int, default=200, help="requests per list measurement")
    parser.add_argument("--ingest-batches", type=int, default=10)
    parser.add_argument("--retier-args", default="--force", help="arguments for manage.py retier")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated subset: floor,writes,retier,reference,lists,simulation,ingest,service,sweep,results,backtest",
    )
    parser.add_argument("--no-report", action="store_true", help="print only; leave docs/performance.md alone")
    args, _unknown = parser.parse_known_args(argv)
    _django_setup()
    from core.clock import local_today  # project code loads once main() has set Django up
    from crm.models import Customer  # project code loads once main() has set Django up

    as_of = args.as_of or local_today()
    only = set(filter(None, args.only.split(",")))

    def wanted(name: str) -> bool:
        return not only or name in only

    customers = Customer.objects.count()
    results = Results()
    results.facts = machine_facts(customers)
    print(f"bench: {results.facts['data']}; as of {as_of}", flush=True)
    floor = measure_floor(results, as_of=as_of, repetitions=max(args.repetitions, 5))
    retier = None
    if wanted("retier"):
        retier = measure_retier(
            results,
            floor=floor,
            customers=customers,
            repetitions=args.repetitions,
            retier_args=args.retier_args.split(),
        )
    if wanted("writes"):
        measure_required_writes(results, as_of=as_of, floor=floor, repetitions=args.repetitions)
    if wanted("reference"):
        measure_orm_reference(results, as_of=as_of, customers=customers, sample=args.sample, retier_seconds=retier)
    if wanted("lists"):
        measure_lists(results, requests=args.requests)
    if wanted("simulation"):
        measure_simulation(results, as_of=as_of, repetitions=args.repetitions)
    if wanted("ingest"):
        measure_ingest(results, as_of=as_of, batches=args.ingest_batches)
    if wanted("service"):
        measure_service(results, repetitions=args.repetitions, requests=args.requests)
    if wanted("sweep") or wanted("results"):
        from bench import service_commitments  # project code loads once main() has set Django up

        if wanted("sweep"):
            service_commitments.measure_sla_sweep(results, repetitions=args.repetitions)
        if wanted("results"):
            service_commitments.measure_results(results, requests=args.requests)
    if wanted("backtest"):
        from bench import backtest  # project code loads once main() has set Django up

        backtest.measure(results, repetitions=args.repetitions, root=ROOT)
    print("\n" + report_markdown(results))
    if not args.no_report:
        report_write(results, REPORT)
        print(f"\nbench: results written to {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
