import datetime
import logging
from decimal import Decimal

import pytest
import time_machine

from core.tests.clock import RUN_DAY
from crm.models import Interaction
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory
from tiering import services, tasks
from tiering.models import Notice
from tiering.tests.conftest import orders_add, run_now

LATER = datetime.date(2026, 11, 15)


def _reevaluate(customer, as_of=LATER):
    services.customers_reevaluate(customer_ids=[customer.pk], as_of=as_of)
    customer.refresh_from_db()
    return customer


def test_spend_up_by_thirty_percent_raises_a_flag_and_a_notice(strong, manager):
    run_now(RUN_DAY)
    orders_add(strong, count=8, amount="50000.00", start=datetime.date(2026, 11, 10))
    customer = _reevaluate(strong)
    assert "spend_up" in customer.flags
    notice = Notice.objects.get(kind="early_warning")
    assert notice.recipient == manager and notice.payload["flag"] == "spend_up"
    assert notice.payload["spend_12m_last_run"] == 600000.0


def test_spend_down_by_half_raises_a_flag(strong):
    run_now(RUN_DAY)
    customer = _reevaluate(strong, as_of=datetime.date(2027, 5, 1))
    assert "spend_down" in customer.flags


def test_three_complaints_in_ninety_days_raise_a_flag(strong):
    run_now(RUN_DAY)
    for day in (1, 5, 9):
        InteractionFactory(customer=strong, kind=Interaction.Kind.COMPLAINT, occurred_at=datetime.date(2026, 11, day))
    customer = _reevaluate(strong)
    assert customer.flags == ["complaints"]


def test_six_months_without_an_order_raises_a_flag(strong):
    run_now(RUN_DAY)
    customer = _reevaluate(strong, as_of=datetime.date(2027, 3, 26))
    assert "no_order" in customer.flags


def test_the_same_flag_is_noticed_once(strong):
    run_now(RUN_DAY)
    for day in (1, 5, 9):
        InteractionFactory(customer=strong, kind=Interaction.Kind.COMPLAINT, occurred_at=datetime.date(2026, 11, day))
    _reevaluate(strong)
    _reevaluate(strong)
    assert Notice.objects.filter(kind="early_warning").count() == 1


def test_flag_thresholds_are_editable(strong, tiering_settings):
    run_now(RUN_DAY)
    tiering_settings.complaints_threshold = 1
    tiering_settings.save()
    InteractionFactory(customer=strong, kind=Interaction.Kind.COMPLAINT, occurred_at=datetime.date(2026, 11, 1))
    assert _reevaluate(strong).flags == ["complaints"]


def test_enqueue_after_commit_runs_the_reevaluation(strong, django_capture_on_commit_callbacks):
    run_now(RUN_DAY)
    for day in (1, 5, 9):
        InteractionFactory(customer=strong, kind=Interaction.Kind.COMPLAINT, occurred_at=datetime.date(2026, 11, day))
    with time_machine.travel(datetime.datetime(2026, 11, 15, 4, tzinfo=datetime.UTC)):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.customers_reevaluate_enqueue([strong.pk, str(strong.pk)])
    assert callbacks
    strong.refresh_from_db()
    assert strong.flags == ["complaints"]


def test_enqueue_never_raises_when_the_broker_is_down(strong, monkeypatch, caplog, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(tasks.reevaluate_customers, "apply_async", broker_down)
    caplog.set_level(logging.WARNING)
    with django_capture_on_commit_callbacks(execute=True):
        services.customers_reevaluate_enqueue([strong.pk, "not a number"])
    assert any("sweep will catch up" in r.getMessage() for r in caplog.records)


def test_the_sweep_reevaluates_customers_with_new_data(strong, weak, tiering_settings):
    run_now(RUN_DAY)
    start = datetime.datetime(2026, 11, 15, 1, tzinfo=datetime.UTC)
    tiering_settings.last_sweep_at = start
    tiering_settings.save()
    with time_machine.travel(start + datetime.timedelta(minutes=5)):
        for day in (1, 5, 9):
            InteractionFactory(
                customer=strong, kind=Interaction.Kind.COMPLAINT, occurred_at=datetime.date(2026, 11, day)
            )
    with time_machine.travel(start + datetime.timedelta(hours=1)):
        assert services.customers_reevaluate_sweep() == 1
    strong.refresh_from_db()
    assert strong.flags == ["complaints"]
    tiering_settings.refresh_from_db()
    assert tiering_settings.last_sweep_at == start + datetime.timedelta(hours=1)


@pytest.mark.parametrize("amount", ["1.00"])
def test_reevaluation_costs_a_fixed_number_of_queries(manager, amount, django_assert_max_num_queries):
    customers = [CustomerFactory(account_manager=manager) for _ in range(20)]
    for customer in customers:
        OrderFactory(customer=customer, amount=Decimal(amount), ordered_at=datetime.date(2026, 11, 1))
    with django_assert_max_num_queries(25):
        services.customers_reevaluate(customer_ids=[c.pk for c in customers], as_of=LATER)


def test_reevaluation_moves_the_12_month_spend_but_not_score_or_tier(strong):
    run_now(RUN_DAY)
    strong.refresh_from_db()
    assert (strong.spend_12m, strong.figures_as_of) == (Decimal("600000.00"), RUN_DAY)
    score, tier = strong.score, strong.tier
    OrderFactory(customer=strong, amount=Decimal("150000"), ordered_at=datetime.date(2026, 11, 10))
    customer = _reevaluate(strong)
    assert customer.spend_12m == Decimal("725000.00")  # 23 orders still in the window, and the new one
    assert customer.figures_as_of == LATER  # the day the spend is for
    assert (customer.score, customer.tier) == (score, tier)
    assert "spend_up" not in customer.flags  # +20.8 % against the last run


def test_spend_flags_compare_with_the_last_run_not_the_last_reevaluation(strong):
    run_now(RUN_DAY)  # 600,000
    OrderFactory(customer=strong, amount=Decimal("150000"), ordered_at=datetime.date(2026, 11, 10))
    assert "spend_up" not in _reevaluate(strong).flags  # 725,000
    OrderFactory(customer=strong, amount=Decimal("100000"), ordered_at=datetime.date(2026, 11, 12))
    customer = _reevaluate(strong)  # 825,000: +37.5 % on the run, +13.8 % on the re-evaluation before
    assert customer.spend_12m == Decimal("825000.00") and "spend_up" in customer.flags
    assert Notice.objects.get(kind="early_warning").payload["spend_12m_last_run"] == 600000.0


def test_updated_since_is_exact_after_a_reevaluation(strong, weak, integration_api):
    """Re-evaluation writes the customer rows itself; their timestamps must compare like the ORM's
    (on SQLite they are text), or `updated_since` returns rows it should not."""
    run_now(RUN_DAY)
    with time_machine.travel(datetime.datetime(2026, 11, 29, 17, 36, 29, tzinfo=datetime.UTC), tick=False):
        services.customers_reevaluate(customer_ids=[strong.pk, weak.pk], as_of=LATER)
    with time_machine.travel(datetime.datetime(2026, 11, 29, 17, 48, 59, tzinfo=datetime.UTC), tick=False):
        weak.name = "Edited after the cut-off"
        weak.save(update_fields=["name", "updated_at"])
    response = integration_api.get("/api/v1/customers/", {"updated_since": "2026-11-29T17:40:00Z"})
    assert [row["code"] for row in response.json()["results"]] == [weak.code]
    response = integration_api.get("/api/v1/customers/", {"updated_since": "2026-11-29T17:36:29Z"})
    assert {row["code"] for row in response.json()["results"]} == {strong.code, weak.code}
