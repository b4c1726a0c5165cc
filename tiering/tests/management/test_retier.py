import io

import pytest
from django.core.management import CommandError, call_command

from tiering.models import TierAssignment, TierRun


def _retier(*args):
    out = io.StringIO()
    call_command("retier", *args, stdout=out)
    return out.getvalue()


def test_retier_runs_and_prints_a_summary_table(strong, weak):
    output = _retier("--as-of", "2026-10-01")
    run = TierRun.objects.get()
    assert run.status == "succeeded" and run.period == "2026-Q4" and run.trigger == "manual"
    assert "2/2 customers (100%)" in output  # plain progress lines when not on a terminal
    lines = {line.split()[0]: line.split()[1:] for line in output.splitlines() if line.split()}
    assert lines["vip"][:2] == ["0", "1"] and lines["dormant"][:2] == ["0", "1"]
    assert "upgrades: 0  downgrades: 0" in output
    assert TierAssignment.objects.count() == 2


def test_retier_dry_run_writes_nothing(strong):
    output = _retier("--as-of", "2026-10-01", "--dry-run")
    assert "dry run" in output and not TierAssignment.objects.exists()


def test_retier_refuses_a_done_period_unless_forced(strong):
    _retier("--as-of", "2026-10-01")
    with pytest.raises(CommandError, match="--force"):
        _retier("--as-of", "2026-10-01")
    _retier("--as-of", "2026-10-01", "--force", "--period", "2026-Q4")
    assert TierRun.objects.filter(status="succeeded").count() == 2


def test_retier_rejects_a_bad_date(db):
    with pytest.raises(CommandError, match="--as-of"):
        _retier("--as-of", "1 October")


def test_retier_refuses_to_look_back_and_points_to_a_dry_run(strong):
    _retier("--as-of", "2026-10-01")
    with pytest.raises(CommandError, match="--dry-run"):
        _retier("--as-of", "2026-07-01")
    assert "dry run" in _retier("--as-of", "2026-07-01", "--dry-run")
