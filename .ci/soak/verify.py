"""After the load: print the figures and prove nothing was lost or duplicated.

Reads locust's CSV summary and SOAK_OUT/pushed.txt, then checks in the database that every
order reference the API acknowledged is stored exactly once and that the re-tier run finished."""

import csv
import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db.models import Count  # noqa: E402

from crm.models import Order  # noqa: E402
from tiering.models import TierAssignment, TierRun  # noqa: E402

OUT = Path(os.environ["SOAK_OUT"])
RUN_ID = os.environ["SOAK_RUN_ID"]
problems: list[str] = []

with (OUT / "soak_stats.csv").open() as handle:
    rows = list(csv.DictReader(handle))
total = next(row for row in rows if row["Name"] == "Aggregated")
print("\nLoad (locust, loopback, gunicorn + PostgreSQL + Redis + Celery worker)")
print(f"  {'endpoint':<28}{'requests':>10}{'failures':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
for row in rows:
    print(
        f"  {row['Name'][:27]:<28}{row['Request Count']:>10}{row['Failure Count']:>10}"
        f"{float(row['Requests/s']):>9.1f}{row['50%']:>9}{row['95%']:>9}{row['99%']:>9}"
    )
errors = int(total["Failure Count"])
if errors:
    problems.append(f"{errors} request(s) failed (see soak_failures.csv)")

pushed = {line.strip() for line in (OUT / "pushed.txt").read_text().splitlines() if line.strip()}
stored = Order.objects.filter(source="soak", external_ref__startswith=f"{RUN_ID}-")
counts = dict(stored.values_list("external_ref").annotate(n=Count("id")))
missing = pushed - set(counts)
doubled = [ref for ref, n in counts.items() if n != 1]
print(
    f"\nOrders: {len(pushed)} acknowledged by the API, {len(counts)} stored, "
    f"{len(missing)} missing, {len(doubled)} stored more than once"
)
if missing:
    problems.append(f"{len(missing)} acknowledged order(s) not stored, e.g. {sorted(missing)[:3]}")
if doubled:
    problems.append(f"{len(doubled)} order(s) stored more than once")
if not pushed:
    problems.append("the integration pushed no orders")

run_line = (OUT / "run.txt").read_text().strip() if (OUT / "run.txt").exists() else ""
print(f"Re-tier run request: {run_line[:160] or 'never sent'}")
run = TierRun.objects.filter(trigger="api", dry_run=False).order_by("-id").first()
deadline = time.monotonic() + float(os.environ.get("SOAK_RUN_WAIT", "300"))
while run is not None and run.status in ("pending", "running") and time.monotonic() < deadline:
    time.sleep(1)
    run.refresh_from_db()
if run is None:
    problems.append("no re-tier run was started during the load")
else:
    duration = (run.finished_at - run.created_at).total_seconds() if run.finished_at else None
    per_customer = TierAssignment.objects.filter(run=run).values("customer").annotate(n=Count("id"))
    extra = per_customer.filter(n__gt=1).count()
    print(
        f"Re-tier run #{run.pk}: {run.status}, {run.done}/{run.total} customers, "
        f"{duration if duration is None else round(duration, 1)} s, {extra} customer(s) assigned twice"
    )
    if run.status != "succeeded":
        problems.append(f"re-tier run #{run.pk} ended {run.status}: {run.error}")
    if extra:
        problems.append(f"{extra} customer(s) have two assignments in run #{run.pk}")

print()
if problems:
    print("SOAK FAILED:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(
    f"SOAK PASSED: {total['Request Count']} requests, {total['Requests/s'][:6]} req/s, "
    f"p50 {total['50%']} ms, p95 {total['95%']} ms, p99 {total['99%']} ms, 0 errors"
)
