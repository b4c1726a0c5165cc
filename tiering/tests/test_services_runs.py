import datetime
import logging

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from core.exceptions import ConflictError, DomainError
from core.tests.clock import RUN_DAY
from crm.models import Customer
from crm.tests.factories import CustomerFactory
from tiering import services
from tiering.models import Notice, TierAssignment, TierChange, TierRun, TierRunChunk
from tiering.services import runs
from tiering.tests.conftest import orders_add, run_day, run_now, strong_customer, weak_customer
from tiering.tests.faults import chunk_faults

NEXT_QUARTER = datetime.date(2027, 1, 1)
LATER = datetime.date(2027, 7, 1)


def test_a_run_tiers_every_customer_and_writes_one_history_row_each(
    strong, weak, tiers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL)
    run.refresh_from_db()
    assert run.status == TierRun.Status.SUCCEEDED
    assert run.period == "2026-Q4" and run.total == 2 and run.done == 2
    assert run.tier_counts == {"vip": 1, "dormant": 1}
    assert run.tier_counts_before == {"untiered": 2}
    strong.refresh_from_db()
    weak.refresh_from_db()
    assert (strong.tier, strong.computed_tier, strong.lifecycle) == (tiers["vip"], tiers["vip"], "mature")
    assert weak.tier == tiers["dormant"] and weak.flags == ["no_order"]
    assert strong.score > 90 and strong.tiered_at is not None and strong.spend_12m == 600000
    assignment = TierAssignment.objects.get(run=run, customer=strong)
    assert assignment.points["spend_12m"] == 30.0 and assignment.metrics["orders_12m"] == 24
    assert assignment.profile_version == 1 and assignment.previous_tier is None
    assert TierAssignment.objects.filter(run=run).count() == 2
    # The first tiering is not a change: nobody gets a notice for it.
    assert not TierChange.objects.exists() and not Notice.objects.exists()


def test_an_upgrade_creates_a_change_a_notice_and_a_log_line(
    weak, manager, tiers, caplog, django_capture_on_commit_callbacks
):
    run_now(RUN_DAY)
    orders_add(weak, count=24, amount="25000.00", start=datetime.date(2026, 12, 20))
    caplog.set_level(logging.INFO, logger="tiering.notices")
    with django_capture_on_commit_callbacks(execute=True):
        run = run_now(NEXT_QUARTER)
    assert (run.period, run.upgrades, run.downgrades) == ("2027-Q1", 1, 0)
    change = TierChange.objects.get(run=run)
    assert (change.customer, change.from_tier, change.direction) == (weak, tiers["dormant"], "upgrade")
    assert change.to_tier.rank < tiers["dormant"].rank
    assert change.reasons[0]["metric"] == "spend_12m" and change.reasons[0]["delta"] > 0
    notice = Notice.objects.get(change=change)
    assert notice.recipient == manager and notice.kind == "upgrade"
    assert notice.payload["from"] == "dormant"
    lines = [r for r in caplog.records if r.name == "tiering.notices"]
    assert len(lines) == 1 and weak.code in lines[0].getMessage()


def test_each_notice_of_a_run_names_the_change_of_its_own_customer(manager, tiers):
    climbers = [weak_customer(manager) for _ in range(3)]
    fallers = [strong_customer(manager) for _ in range(2)]
    run_now(RUN_DAY)
    for customer in climbers:
        orders_add(customer, count=24, amount="25000.00", start=datetime.date(2026, 12, 20))
    run = run_now(LATER)  # the fallers' orders are now more than a year old
    notices = Notice.objects.filter(run=run).select_related("change")
    assert sorted(n.customer_id for n in notices) == sorted(c.pk for c in climbers + fallers)
    for notice in notices:
        assert (notice.change.run_id, notice.change.customer_id) == (run.pk, notice.customer_id)
        assert notice.kind == notice.change.direction == ("upgrade" if notice.customer in climbers else "downgrade")
        assert notice.payload["to"] == notice.change.to_tier.code and notice.recipient == manager


def test_a_downgrade_names_the_rules_that_fell_most(strong, tiers):
    run_now(RUN_DAY)
    run = run_now(LATER)
    change = TierChange.objects.get(run=run, customer=strong)
    assert change.direction == "downgrade" and change.from_tier == tiers["vip"]
    assert all(reason["delta"] < 0 for reason in change.reasons)
    assert float(change.score_before) > float(change.score)


def test_a_period_with_a_successful_run_is_refused_unless_forced(strong):
    run_now(RUN_DAY)
    with pytest.raises(ConflictError) as error:
        services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.SCHEDULE, enqueue=False)
    assert "2026-Q4" in error.value.message and "period" in error.value.fields
    forced = run_now(RUN_DAY, force=True)
    assert forced.status == TierRun.Status.SUCCEEDED and forced.forced


def test_a_forced_rerun_never_duplicates_changes_or_notices(strong, weak):
    run_now(RUN_DAY)
    run_now(LATER)
    changes, notices = TierChange.objects.count(), Notice.objects.count()
    assert changes == 1 and notices == 1
    rerun = run_now(LATER, force=True)
    assert TierChange.objects.count() == changes and Notice.objects.count() == notices
    assert TierAssignment.objects.filter(run=rerun).count() == 2
    # Replaying a finished chunk writes nothing.
    chunk = rerun.chunks.get()
    assert services.chunk_process(chunk.pk) is False
    assert TierAssignment.objects.filter(run=rerun).count() == 2


def test_a_second_run_while_one_is_in_progress_is_a_conflict(strong):
    services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, enqueue=False)
    with pytest.raises(ConflictError) as error:
        services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, period="other", enqueue=False)
    assert error.value.code == "run_in_progress"
    assert TierRun.objects.count() == 1


def test_a_monthly_run_covers_only_vip_and_flagged_customers(strong, weak, manager):
    run_now(RUN_DAY)
    CustomerFactory(account_manager=manager)  # never tiered, no flags
    run = run_now(datetime.date(2026, 11, 1), scope=TierRun.Scope.VIP_AND_AT_RISK)
    assert run.period == "2026-11"
    assert set(TierAssignment.objects.filter(run=run).values_list("customer_id", flat=True)) == {strong.pk, weak.pk}


def test_a_dry_run_reports_but_writes_nothing(strong, weak):
    run = run_now(RUN_DAY, dry_run=True)
    assert run.status == TierRun.Status.SUCCEEDED and run.tier_counts == {"vip": 1, "dormant": 1}
    assert not TierAssignment.objects.exists()
    assert not Customer.objects.filter(tier__isnull=False).exists()
    # A dry run does not use up the period.
    assert run_now(RUN_DAY).status == TierRun.Status.SUCCEEDED


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"as_of": "2026-10-01"}, "as_of"),
        ({"trigger": "cron"}, "trigger"),
        ({"scope": "some"}, "scope"),
        ({"period": " "}, "period"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(db, options, field):
    arguments = {"as_of": RUN_DAY, "trigger": "manual", **options}
    with pytest.raises(DomainError) as error:
        services.tier_run_start(**arguments)
    assert field in error.value.fields
    assert not TierRun.objects.exists()


def test_a_chunk_that_fails_once_is_retried_and_writes_once(
    strong, weak, tiering_settings, django_capture_on_commit_callbacks
):
    tiering_settings.chunk_size = 1
    tiering_settings.save()
    with chunk_faults("raise:1"), django_capture_on_commit_callbacks(execute=True):
        run = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL)
    run.refresh_from_db()
    assert run.status == TierRun.Status.SUCCEEDED
    assert list(run.chunks.order_by("index").values_list("attempts", flat=True)) == [1, 2]
    assert TierAssignment.objects.filter(run=run).count() == 2


def test_a_failed_run_resumes_without_redoing_finished_chunks(strong, weak, tiering_settings, monkeypatch):
    tiering_settings.chunk_size = 1
    tiering_settings.save()
    original = runs._chunk_write
    calls = []

    def broken(run, chunk, evaluation):
        calls.append(chunk.index)
        if chunk.index == 1:
            raise RuntimeError("database went away")
        original(run, chunk, evaluation)

    monkeypatch.setattr(runs, "_chunk_write", broken)
    run = run_now(RUN_DAY)
    assert run.status == TierRun.Status.FAILED and "database went away" in run.error
    assert run.chunks.get(index=1).status == TierRunChunk.Status.FAILED
    monkeypatch.setattr(runs, "_chunk_write", original)
    run = services.tier_run_resume(run, enqueue=False)
    run = services.tier_run_execute(run)
    assert run.status == TierRun.Status.SUCCEEDED and run.done == 2
    assert calls == [0, 1]
    assert TierAssignment.objects.filter(run=run).count() == 2
    with pytest.raises(ConflictError):
        services.tier_run_resume(run)


def test_a_chunk_costs_the_same_number_of_queries_for_ten_or_forty_customers(manager):
    counts = []
    for size in (5, 15):  # 10 customers, then 40; both rounds downgrade every strong customer
        for _ in range(size):
            strong_customer(manager)
            weak_customer(manager)
        TierRun.objects.all().delete()  # each round runs the same two dates (runs never go back in time)
        run_now(RUN_DAY)
        with time_machine.travel(run_day(LATER)):
            run = services.tier_run_start(as_of=LATER, trigger="manual", force=True, enqueue=False)
            with CaptureQueriesContext(connection) as queries:
                services.chunk_process(run.chunks.get().pk)
            services.tier_run_close(run.pk)
        assert TierChange.objects.filter(run=run).count() == size + (5 if size == 15 else 0)
        counts.append(len(queries))
    assert TierAssignment.objects.filter(run=run).count() == 40
    assert counts[0] == counts[1] <= 35


def test_override_wins_in_a_run_until_it_expires(strong, tiers, admin_user, tiering_settings):
    with time_machine.travel(datetime.datetime(2026, 9, 1, 12, tzinfo=datetime.UTC)):
        services.override_set(
            customer=strong,
            tier=tiers["potential"],
            reason="Testing precedence",
            expires_on=datetime.date(2027, 1, 1),
            set_by=admin_user,
        )
    run = run_now(RUN_DAY)
    assignment = TierAssignment.objects.get(run=run, customer=strong)
    assert assignment.overridden and assignment.tier == tiers["potential"] and assignment.computed_tier == tiers["vip"]
    strong.refresh_from_db()
    assert strong.tier == tiers["potential"] and strong.computed_tier == tiers["vip"]
    run = run_now(NEXT_QUARTER)  # the override expired on 2027-01-01
    assignment = TierAssignment.objects.get(run=run, customer=strong)
    assert not assignment.overridden and assignment.tier == tiers["vip"]


def test_grace_keeps_the_tier_for_the_configured_runs(strong, tiers, tiering_settings):
    tiering_settings.grace_runs = 2
    tiering_settings.save()
    run_now(RUN_DAY)
    held = run_now(LATER)
    strong.refresh_from_db()
    assert strong.tier == tiers["vip"] and strong.computed_tier != tiers["vip"] and strong.runs_below_threshold == 1
    assert held.downgrades == 0 and not TierChange.objects.exists()
    run_now(datetime.date(2027, 10, 1))
    strong.refresh_from_db()
    assert strong.tier != tiers["vip"] and strong.runs_below_threshold == 0
    assert TierChange.objects.filter(direction="downgrade").count() == 1


def test_a_run_that_cannot_be_queued_fails_cleanly_and_can_be_resumed(
    strong, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(run_id):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(runs, "tier_run_dispatch", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.API)
    run.refresh_from_db()
    assert run.status == TierRun.Status.FAILED and "not queued" in run.error
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.tier_run_resume(run)
    run.refresh_from_db()
    assert run.status == TierRun.Status.SUCCEEDED


def test_a_customer_deleted_while_its_chunk_is_scored_leaves_no_history_behind(strong, weak, monkeypatch):
    run_now(RUN_DAY)
    weak_id = weak.pk
    real = runs.customers_evaluate

    def evaluate_then_delete(*args, **kwargs):
        evaluation = real(*args, **kwargs)
        Customer.objects.get(pk=weak_id).delete()  # an administrator deletes it meanwhile
        return evaluation

    monkeypatch.setattr(runs, "customers_evaluate", evaluate_then_delete)
    orders_add(strong, count=1, amount="1.00", start=datetime.date(2026, 12, 20))
    run = run_now(LATER)
    assert run.status == TierRun.Status.SUCCEEDED
    assert list(TierAssignment.objects.filter(run=run).values_list("customer_id", flat=True)) == [strong.pk]
    for model in (TierAssignment, TierChange, Notice):
        assert not model.objects.filter(customer_id=weak_id).exists(), model.__name__


@pytest.mark.parametrize("change", ["reordered", "one metric fewer"])
def test_reasons_read_earlier_snapshots_taken_with_another_metric_order(weak, change):
    first = run_now(RUN_DAY)
    keys = list(first.metric_keys)
    older = list(reversed(keys)) if change == "reordered" else keys[1:]
    assignment = TierAssignment.objects.select_related("run").get(run=first, customer=weak)
    points, metrics = assignment.points, assignment.metrics
    TierRun.objects.filter(pk=first.pk).update(metric_keys=older)
    TierAssignment.objects.filter(pk=assignment.pk).update(
        point_values=[points.get(k) for k in older], metric_values=[metrics.get(k) for k in older]
    )
    orders_add(weak, count=24, amount="25000.00", start=datetime.date(2026, 12, 20))
    run = run_now(NEXT_QUARTER)
    reasons = TierChange.objects.get(run=run, customer=weak).reasons
    assert reasons and all("delta" in r for r in reasons)
    for reason in reasons:
        assert reason["previous_points"] == points[reason["metric"]]


# --- runs never rewrite the present from the past ---------------------------------------------------


def test_a_run_as_of_a_day_after_today_is_refused(strong):
    with time_machine.travel(run_day(RUN_DAY)), translation.override("en"), pytest.raises(DomainError) as refused:
        services.tier_run_start(as_of=RUN_DAY + datetime.timedelta(days=1), trigger="manual", enqueue=False)
    assert refused.value.status_code == 400 and "as_of" in refused.value.fields
    assert "later than today (2026-10-01)" in refused.value.message
    assert not TierRun.objects.exists()


def test_today_is_the_business_days_date(strong):
    # 2026-09-30 17:00 UTC is already 1 October in Shanghai.
    with time_machine.travel(datetime.datetime(2026, 9, 30, 17, tzinfo=datetime.UTC)):
        run = services.tier_run_start(as_of=RUN_DAY, trigger="manual", enqueue=False)
    assert run.as_of == RUN_DAY


def test_a_real_run_may_not_look_back_past_the_latest_run_of_its_scope(strong):
    run_now(LATER)
    with time_machine.travel(run_day(LATER)), translation.override("en"):
        with pytest.raises(ConflictError) as refused:
            services.tier_run_start(as_of=RUN_DAY, trigger="manual", force=True, enqueue=False)
        assert refused.value.code == "as_of_before_latest_run" and "as_of" in refused.value.fields
        assert "dry run" in refused.value.message and "2027-07-01" in refused.value.message
        looked_back = services.tier_run_execute(
            services.tier_run_start(as_of=RUN_DAY, trigger="manual", dry_run=True, enqueue=False)
        )
    assert looked_back.status == "succeeded" and not TierAssignment.objects.filter(run=looked_back).exists()
    # The same day again (forced) and the other scope are not looking back.
    assert run_now(LATER, force=True).status == "succeeded"
    assert run_now(LATER - datetime.timedelta(days=30), scope=TierRun.Scope.VIP_AND_AT_RISK).status == "succeeded"


def test_three_past_quarters_run_oldest_first_as_the_demo_does(strong, weak):
    quarters = [datetime.date(2026, 4, 1), datetime.date(2026, 7, 1), datetime.date(2026, 10, 1)]
    with time_machine.travel(run_day(datetime.date(2026, 11, 29))):
        for as_of in quarters:
            services.tier_run_execute(services.tier_run_start(as_of=as_of, trigger="manual", enqueue=False))
    assert list(TierRun.objects.order_by("id").values_list("as_of", "status")) == [(q, "succeeded") for q in quarters]
