"""`manage.py verify_history`: recompute stored tier history from its snapshots and rule books."""

from django.core.management.base import BaseCommand, CommandError

from tiering.models import TierRun
from tiering.verification import history_verify


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise CommandError(f"expected a whole number of at least 1, got {value!r}")
    return number


class Command(BaseCommand):
    help = (
        "Recompute each stored assignment's score and computed tier from its metric snapshot and its run's "
        "rule book; print every mismatch and exit 1 if there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--run", type=_positive, default=None, help="Only this tier run (its id).")
        parser.add_argument("--sample", type=_positive, default=None, help="Check N random assignments per run.")
        parser.add_argument("--seed", type=int, default=None, help="Seed of the sample, to repeat it.")

    def handle(self, *args, **options):
        run_id = options["run"]
        if run_id is not None and not TierRun.objects.filter(pk=run_id).exists():
            raise CommandError(f"There is no tier run #{run_id}.")
        summary = history_verify(
            run_id=run_id,
            sample=options["sample"],
            seed=options["seed"],
            report=lambda mismatch: self.stdout.write(f"MISMATCH {mismatch}"),
        )
        if summary.runs_without_rulebook:
            listed = ", ".join(f"#{pk}" for pk in summary.runs_without_rulebook)
            self.stdout.write(f"Not verifiable (run before rule books were kept): {listed}")
        line = (
            f"Verified {summary.assignments} assignment(s) of {summary.runs} run(s): {summary.mismatches} mismatch(es)."
        )
        if summary.mismatches:
            raise CommandError(line)
        self.stdout.write(line)
