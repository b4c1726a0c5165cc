import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.tests.clock import RUN_DAY
from tiering import verification
from tiering.models import TierAssignment, TierRun
from tiering.tests.conftest import edit_rules_and_thresholds, run_now, strong_customer, weak_customer

LATER = datetime.date(2027, 7, 1)


def verify(*args) -> str:
    out = io.StringIO()
    call_command("verify_history", *args, stdout=out)
    return out.getvalue()


def test_a_real_run_verifies_clean(strong, weak, monkeypatch):
    run_now(RUN_DAY)
    run_now(LATER)
    monkeypatch.setattr(verification, "CHUNK_SIZE", 1)  # every customer a chunk of its own
    output = verify()
    assert "MISMATCH" not in output
    assert output.strip().endswith("Verified 4 assignment(s) of 2 run(s): 0 mismatch(es).")


def test_a_tampered_score_is_reported_and_fails(strong, weak):
    run = run_now(RUN_DAY)
    TierAssignment.objects.filter(run=run, customer=strong).update(score=Decimal("99.99"))
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_history", stdout=out)
    assert failure.value.returncode == 1
    assert "1 mismatch(es)" in str(failure.value)
    [line] = [line for line in out.getvalue().splitlines() if line.startswith("MISMATCH")]
    assert f"{strong.code} run #{run.pk} ({run.period})" in line
    assert "score 99.99 stored, 100.00 recomputed" in line and "tier vip stored, vip recomputed" in line


def test_a_tampered_computed_tier_is_reported(strong, weak, tiers):
    run = run_now(RUN_DAY)
    TierAssignment.objects.filter(run=run, customer=weak).update(computed_tier=tiers["core"])
    with pytest.raises(CommandError):
        verify()


def test_rules_edited_after_the_run_still_verify_clean(strong, weak, admin_user):
    run_now(RUN_DAY)
    run_now(LATER)
    edit_rules_and_thresholds(admin_user)
    assert "0 mismatch(es)" in verify()


def test_one_run_a_sample_and_runs_without_a_rule_book(strong, weak):
    old = run_now(RUN_DAY)
    run = run_now(LATER)
    TierRun.objects.filter(pk=old.pk).update(rulebook={})
    TierAssignment.objects.filter(run=old).update(score=Decimal("1.00"))  # not checked: nothing to check against
    output = verify("--sample", "1", "--seed", "7")
    assert f"Not verifiable (run before rule books were kept): #{old.pk}" in output
    assert "Verified 1 assignment(s) of 1 run(s): 0 mismatch(es)." in output
    assert "Verified 2 assignment(s) of 1 run(s)" in verify("--run", str(run.pk))
    with pytest.raises(CommandError):
        verify("--run", "999999")


def test_verifying_reads_assignments_in_chunks_not_per_customer(manager, monkeypatch):
    counts = []
    for size in (5, 15):
        for _ in range(size):
            strong_customer(manager)
            weak_customer(manager)
        TierRun.objects.all().delete()
        run = run_now(RUN_DAY)
        monkeypatch.setattr(verification, "CHUNK_SIZE", 1000)
        with CaptureQueriesContext(connection) as queries:
            summary = verification.history_verify(run_id=run.pk)
        assert summary.mismatches == 0 and summary.assignments == 2 * (5 if size == 5 else 20)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6
