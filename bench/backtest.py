"""Benchmark rows for backtests and weight suggestions (scoring/backtest_services.py), measured by
bench/harness.py on the generated data set: each run in a fresh process, as the Celery task runs
it, timed end to end (metric tables of every customer, outcomes, scoring, report) with the peak
memory of that process."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

BACKTEST_CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from scoring import backtest_services
from scoring.models import Backtest, ScoringProfile
kind = sys.argv[1]
started = time.perf_counter()
if kind == "backtest":
    # The saved rules beside draft thresholds: both rule sets reported, as an administrator would.
    row = backtest_services.backtest_create(thresholds={"vip": 92, "core": 77})
else:
    row = backtest_services.suggestion_create(profile=ScoringProfile.objects.get(is_default=True))
row = Backtest.objects.get(pk=row.pk)
if row.status != "succeeded":  # eager Celery (no broker) runs the task when the row is committed
    row = backtest_services.backtest_run(row.pk)
elapsed = time.perf_counter() - started
data = row.result.get("data", {})
found = row.result.get("suggestion") or {}
print(json.dumps({
    "seconds": elapsed,
    "status": row.status,
    "error": row.error,
    "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "customers": data.get("customers"),
    "orders": (data.get("orders_before") or 0) + (data.get("orders_after") or 0),
    "sample_size": found.get("sample_size"),
    "fit_customers": found.get("fit_customers"),
    "candidates": found.get("candidates"),
    "material": found.get("material"),
}))
"""


def _once(kind: str, root) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", BACKTEST_CHILD, kind],
        cwd=root,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{completed.stderr[-3000:]}")
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    if outcome["status"] != "succeeded":
        raise RuntimeError(f"{kind} failed: {outcome['error']}")
    return outcome


def measure(results, *, repetitions: int, root) -> None:
    """11. a backtest of every customer (two 12-month windows, two rule sets) and 11b. a weight
    suggestion (three windows, the fit window sampled), with the peak memory of each."""
    peaks = []
    for kind, name, target, limit, runs in (
        (
            "backtest",
            "11. backtest, all customers, saved rules beside a draft (two 12-month windows)",
            "≤ 10 s",
            10,
            repetitions,
        ),
        (
            "suggestion",
            "11b. weight suggestion, default profile (fit window sampled, report window whole)",
            "≤ 60 s",
            60,
            max(1, min(repetitions, 2)),
        ),
    ):
        try:
            outcomes = [_once(kind, root) for _ in range(runs)]
        except RuntimeError as exc:
            results.add(name, "failed", target, False, str(exc).splitlines()[-1][:120])
            continue
        median = statistics.median(o["seconds"] for o in outcomes)
        last = outcomes[-1]
        peaks.append(max(o["max_rss_kib"] for o in outcomes) / 1024)
        results.raw.setdefault("backtest", {})[kind] = outcomes
        note = f"{last['customers']:,} customers scored as of the date; {last['orders']:,} orders in the year before and after it"
        if kind == "suggestion":
            note += (
                f"; fitted on a sample of {last['sample_size']:,} of {last['fit_customers']:,} customers, "
                f"{last['candidates']:,} weight sets tried; {'a change suggested' if last['material'] else 'no material change'}"
            )
        results.add(name, f"{median:.2f} s", target, median <= limit, note)
    if peaks:
        peak = max(peaks)
        results.add(
            "11c. peak memory of a backtest or suggestion process", f"{peak:,.0f} MiB", "< 1024 MiB", peak < 1024
        )
