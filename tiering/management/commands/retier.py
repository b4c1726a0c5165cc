"""`manage.py retier`: run (or with --dry-run only report) a tier run in this process."""

import datetime
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from core.clock import local_today
from core.exceptions import DomainError
from scoring.models import Tier
from tiering import services
from tiering.models import TierRun


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of must be a date (YYYY-MM-DD), got {value!r}") from None


class Command(BaseCommand):
    help = "Re-tier customers now, with a progress bar and a summary table."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=_date, default=None, help="Date to score as of (default: today).")
        parser.add_argument("--period", default=None, help="Period label, e.g. 2026-Q4 (default: from --as-of).")
        parser.add_argument("--scope", default=TierRun.Scope.ALL, choices=TierRun.Scope.values)
        parser.add_argument("--dry-run", action="store_true", help="Compute and report; write no tiers.")
        parser.add_argument("--force", action="store_true", help="Run a period that already has a successful run.")

    def handle(self, *args, **options):
        as_of = options["as_of"] or local_today()
        started = time.monotonic()
        try:
            run = services.tier_run_start(
                as_of=as_of,
                trigger=TierRun.Trigger.MANUAL,
                period=options["period"],
                dry_run=options["dry_run"],
                force=options["force"],
                scope=options["scope"],
                enqueue=False,
            )
        except DomainError as exc:
            details = "; ".join(
                f"{k}: {' '.join(map(str, v))}"
                for k, v in exc.fields.items()
                if not all(str(problem) in exc.message for problem in v)  # said in the message already
            )
            hint = {"period_done": " (--force)", "as_of_before_latest_run": " (--dry-run)"}.get(exc.code, "")
            raise CommandError(f"{exc.message}{hint} {details}".strip()) from None
        self.stdout.write(
            f"Run #{run.pk} {run.period} as of {as_of}: {run.total} customers" + (" (dry run)" if run.dry_run else "")
        )
        run = services.tier_run_execute(run, progress=self._progress_printer())
        elapsed = time.monotonic() - started
        if self._tty:
            self.stdout.write("")
        self._summary(run, elapsed)
        if run.status != TierRun.Status.SUCCEEDED:
            raise CommandError(f"Run #{run.pk} {run.status}: {run.error}")

    @property
    def _tty(self) -> bool:
        return sys.stdout.isatty()

    def _progress_printer(self):
        def progress(done: int, total: int) -> None:
            percent = int(done * 100 / total) if total else 100
            if self._tty:
                filled = percent * 30 // 100
                self.stdout.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {done}/{total}", ending="")
                self.stdout.flush()
            else:
                self.stdout.write(f"{done}/{total} customers ({percent}%)")

        return progress

    def _summary(self, run: TierRun, elapsed: float) -> None:
        codes = list(Tier.objects.order_by("rank").values_list("code", flat=True))
        extra = sorted((set(run.tier_counts_before) | set(run.tier_counts)) - set(codes))
        rows = [(code, run.tier_counts_before.get(code, 0), run.tier_counts.get(code, 0)) for code in codes + extra]
        width = max([len("tier")] + [len(code) for code, _b, _a in rows])
        self.stdout.write(f"{'tier':<{width}}  {'before':>9}  {'after':>9}  {'change':>8}")
        for code, before, after in rows:
            self.stdout.write(f"{code:<{width}}  {before:>9}  {after:>9}  {after - before:>+8}")
        self.stdout.write(f"{'total':<{width}}  {sum(r[1] for r in rows):>9}  {sum(r[2] for r in rows):>9}")
        self.stdout.write(
            f"upgrades: {run.upgrades}  downgrades: {run.downgrades}  time: {elapsed:.2f} s"
            + ("  (dry run: nothing written)" if run.dry_run else "")
        )
