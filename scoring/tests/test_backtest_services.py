"""Backtests through their service and task: what is refused, what the report says, and that
nothing but the Backtest row is ever written."""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps

from core.exceptions import DomainError
from crm.models import Customer
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory, SurveyFactory
from scoring import backtest_services
from scoring.models import Backtest, ScoringProfile

T = datetime.date(2025, 9, 30)
TODAY = datetime.date(2026, 10, 15)


def orders(customer, *, amount, count, start, end):
    """`count` orders of `amount` spread evenly over (start, end]."""
    span = (end - start).days
    for n in range(count):
        OrderFactory(
            customer=customer,
            amount=Decimal(amount),
            ordered_at=start + datetime.timedelta(days=span * (n + 1) // count),
        )


EARLIER = (T - datetime.timedelta(days=725), T - datetime.timedelta(days=365))  # a suggestion's fit window
BEFORE = (T - datetime.timedelta(days=360), T)
AFTER = (T, T + datetime.timedelta(days=365))
EARLY_AFTER = (T, T + datetime.timedelta(days=200))  # stops ordering well before the end


@pytest.fixture
def book(db):
    return make_book()


def make_book(as_of: datetime.date = T) -> dict:
    """Twenty customers: steady big buyers, a big buyer who stops, a newcomer who takes off, a quiet
    base; their orders run in the two years before `as_of` and the year after it."""
    earlier, before, after, early_after = (
        (as_of - (T - start), as_of - (T - end)) for start, end in (EARLIER, BEFORE, AFTER, EARLY_AFTER)
    )
    cast = {}
    for n in range(3):
        c = CustomerFactory(name=f"Steady {n}", cooperation_since=datetime.date(2018, 1, 1))
        orders(c, amount="25000", count=24, start=earlier[0], end=earlier[1])
        orders(c, amount="25000", count=24, start=before[0], end=before[1])
        orders(c, amount="25000", count=24, start=after[0], end=after[1])
        SurveyFactory(customer=c, score=Decimal("4.8"), surveyed_at=as_of - datetime.timedelta(days=30))
        cast[f"steady{n}"] = c
    quitter = CustomerFactory(name="Quitter", cooperation_since=datetime.date(2018, 1, 1))
    orders(quitter, amount="25000", count=24, start=before[0], end=before[1])
    orders(quitter, amount="5000", count=2, start=early_after[0], end=early_after[1])
    SurveyFactory(customer=quitter, score=Decimal("4.5"), surveyed_at=as_of - datetime.timedelta(days=30))
    cast["quitter"] = quitter
    riser = CustomerFactory(name="Riser", cooperation_since=as_of - datetime.timedelta(days=40))
    orders(riser, amount="800", count=1, start=as_of - datetime.timedelta(days=30), end=as_of)
    orders(riser, amount="60000", count=20, start=after[0], end=after[1])
    cast["riser"] = riser
    for n in range(15):
        c = CustomerFactory(name=f"Base {n}", cooperation_since=datetime.date(2022, 1, 1))
        orders(c, amount=str(1000 + 100 * n), count=4 + n % 5, start=earlier[0], end=earlier[1])
        orders(c, amount=str(1000 + 100 * n), count=4 + n % 5, start=before[0], end=before[1])
        orders(c, amount=str(1000 + 100 * n), count=4 + n % 5, start=after[0], end=after[1])
        cast[f"base{n}"] = c
    InteractionFactory(customer=cast["base0"], kind="complaint", occurred_at=as_of + datetime.timedelta(days=10))
    # Not a customer at T: started after it.
    late = CustomerFactory(name="Late", cooperation_since=as_of + datetime.timedelta(days=20))
    orders(late, amount="9000", count=5, start=after[0] + datetime.timedelta(days=20), end=after[1])
    cast["late"] = late
    return cast


def run(**kwargs):
    row = backtest_services.backtest_create(today=TODAY, **kwargs)
    return backtest_services.backtest_run(row.pk)


def test_a_backtest_judges_the_tiers_by_what_customers_did_next(book):
    row = run(as_of=T)

    assert row.status == Backtest.Status.SUCCEEDED and row.progress == 100
    data = row.result["data"]
    assert data["customers"] == 20  # "Late" started after the date: not a customer then
    assert data["left_out"] == 1
    assert data["outcome_end"] == "2026-09-30"
    assert data["complaints_after"] == 1
    current = row.result["sides"]["current"]
    assert "draft" not in row.result["sides"]
    assert sum(tier["customers"] for tier in current["tiers"]) == 20
    assert current["rank_correlation"] > 0.5
    rising = {item["code"] for item in current["misplaced"]["rising"]}
    lapsed = {item["code"] for item in current["misplaced"]["lapsed"]}
    assert rising == {book["riser"].code}
    assert lapsed == {book["quitter"].code}
    quitter = current["misplaced"]["lapsed"][0]
    assert quitter["tier"] == "core" and quitter["spend"] == 10000 and quitter["retained"] is False


def test_scores_use_only_the_data_up_to_the_date(book):
    """The riser's 20 big orders after the date do not lift its score at the date: 800 of spend,
    one order of 800, 40 days of tenure, no survey (3 of 5), no rating."""
    expected = 800 / 500000 * 30 + 1 / 24 * 20 + 800 / 2000 * 10 + (40 / 365.25) / 5 * 15 + 7.5
    row = run(as_of=T)
    riser = row.result["sides"]["current"]["misplaced"]["rising"][0]
    assert riser["score"] == pytest.approx(round(expected, 2))
    assert riser["tier"] == "dormant"


def vip_count(row):
    return row.result["sides"]["current"]["tiers"][0]["customers"]


def test_customer_fields_edited_after_the_date_count_with_their_value_on_the_date(book):
    """A steady customer scores 89.25 (core) unrated; rated 10 it would score 99.25 (VIP)."""
    steady = book["steady0"]
    steady.history.update(history_date=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC))  # its record then
    steady.potential_rating = 10  # rated up after the date: a new history row, dated now
    steady.save()

    row = run(as_of=T)
    assert row.result["data"]["fields_from_history"] == 1
    assert vip_count(row) == 0  # the rating it had on the date (none) counts, not today's

    steady.history.filter(history_date__lt=datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)).delete()
    row = run(as_of=T)  # no record from before the date: today's value is all there is
    assert row.result["data"]["fields_from_history"] == 0
    assert vip_count(row) == 1


# --- what a backtest writes: its own row, nothing else ------------------------------------------


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_models() if model is not Backtest}


def customer_standing() -> list[tuple]:
    return list(
        Customer.objects.order_by("id").values_list(
            "id", "tier_id", "computed_tier_id", "score", "spend_12m", "flags", "lifecycle", "updated_at"
        )
    )


def test_a_backtest_and_a_suggestion_write_nothing_but_their_own_row(
    book, default_profile, mailoutbox, django_capture_on_commit_callbacks
):
    for n in range(15):  # a suggestion fits weights on at least 30 customers
        customer = CustomerFactory(name=f"More {n}", cooperation_since=datetime.date(2021, 1, 1))
        orders(customer, amount=str(700 + 50 * n), count=3 + n % 4, start=EARLIER[0], end=AFTER[1])
    before_counts, before_customers = table_counts(), customer_standing()

    with django_capture_on_commit_callbacks(execute=True):
        backtest = backtest_services.backtest_create(as_of=T, today=TODAY, thresholds={"vip": 85})
        suggested = backtest_services.suggestion_create(
            profile=default_profile, as_of=T, fit_as_of=T - datetime.timedelta(days=365), today=TODAY
        )

    backtest.refresh_from_db()
    suggested.refresh_from_db()
    # Run by the task (eager Celery) once the rows were committed.
    assert (backtest.status, suggested.status) == (Backtest.Status.SUCCEEDED, Backtest.Status.SUCCEEDED)
    assert table_counts() == before_counts  # no tier run, history row, notice, webhook or anything else
    assert customer_standing() == before_customers
    assert Backtest.objects.count() == 2
    assert mailoutbox == []


# --- what is refused, with the field named ------------------------------------------------------


def refused(create=backtest_services.backtest_create, **kwargs) -> dict:
    kwargs.setdefault("today", TODAY)
    with pytest.raises(DomainError) as caught:
        create(**kwargs)
    assert Backtest.objects.count() == 0
    return caught.value.fields


def test_a_date_without_twelve_months_after_it_is_refused(book):
    fields = refused(as_of=TODAY - datetime.timedelta(days=100))
    assert fields == {
        "as_of": [
            "A backtest needs 12 months of data after the date: the 12 months after 2026-07-07 end on "
            "2027-07-07, after today (2026-10-15). Choose 2025-10-15 or earlier."
        ]
    }


def test_a_date_whose_next_twelve_months_the_data_does_not_reach_is_refused(book):
    """Orders stop on 2026-09-30; a year after 2025-12-31 reaches beyond them by more than a month."""
    fields = refused(as_of=datetime.date(2025, 12, 31), today=datetime.date(2027, 3, 1))
    assert fields["as_of"] == [
        "A backtest needs 12 months of data after the date, but the latest order is dated 2026-09-30, "
        "more than a month before 2026-12-31, the end of the 12 months after 2025-12-31."
    ]


def test_a_date_before_any_order_is_refused(book):
    fields = refused(as_of=datetime.date(2020, 1, 1))
    assert fields == {"as_of": ["There are no orders on or before 2020-01-01, so there is nothing to score."]}


def test_a_draft_with_invalid_rules_is_refused_naming_the_rule(book, default_profile, default_rules):
    default_rules[0]["weight"] = 45  # quantitative now adds up to 75
    default_rules[1]["cap"] = -1
    fields = refused(as_of=T, draft={"profile": default_profile.pk, "rules": default_rules})
    assert fields["draft.rules[1].cap"] == ["The cap (-1) must be above the floor (0)."]
    assert "draft.rules" not in fields or all("Quantitative" in m for m in fields["draft.rules"])


def test_thresholds_out_of_order_are_refused(book):
    fields = refused(as_of=T, thresholds={"core": 95})
    assert fields["thresholds.core.min_score"] == ["Must be below VIP's 90."]
    assert refused(as_of=T, thresholds={"gold": 95}) == {"thresholds": ["Unknown tier code 'gold'."]}


def test_bounds_that_cannot_satisfy_the_split_are_refused(book, default_profile):
    fields = refused(
        backtest_services.suggestion_create,
        profile=default_profile,
        as_of=T,
        fit_as_of=T - datetime.timedelta(days=365),
        bounds={"spend_12m": [0, 10], "orders_12m": [0, 10], "avg_order_value_12m": [0, 10]},
    )
    assert fields == {
        "bounds": ["The quantitative rules' bounds allow 0 to 30 points in all, but the split gives quantitative 60."]
    }


def test_a_fit_window_overlapping_the_report_is_refused(book, default_profile):
    fields = refused(
        backtest_services.suggestion_create,
        profile=default_profile,
        as_of=T,
        fit_as_of=T - datetime.timedelta(days=100),
    )
    assert list(fields) == ["fit_as_of"]
    assert fields["fit_as_of"][0].startswith("The fit window must end before the reported one starts")


def test_a_suggestion_needs_an_active_profile_and_known_metrics(book, default_profile):
    default_profile.is_active = False
    default_profile.save()
    fields = refused(backtest_services.suggestion_create, profile=default_profile, as_of=T)
    assert fields["profile"] == ["Choose an active scoring profile: a suggestion fits the weights of one profile."]
    default_profile.is_active = True
    default_profile.save()
    fields = refused(
        backtest_services.suggestion_create, profile=default_profile, as_of=T, bounds={"referrals_12m": [0, 5]}
    )
    assert fields == {"bounds": ["'referrals_12m' has no rule in this profile."]}


# --- drafts, thresholds and calibration ---------------------------------------------------------


def test_a_draft_profile_is_reported_beside_the_saved_rules(book, default_profile, default_rules):
    """With tenure worth 30 and satisfaction nothing, the long-standing big buyers reach VIP (90)."""
    by_metric = {rule["metric"]: rule for rule in default_rules}
    by_metric["tenure_years"]["weight"] = 30
    by_metric["satisfaction_12m"]["weight"] = 0
    row = run(as_of=T, draft={"profile": default_profile.pk, "rules": default_rules})

    assert row.profile == default_profile
    assert row.parameters["draft"]["rules"][3] == {**row.parameters["draft"]["rules"][3], "weight": 30.0}
    current, draft = row.result["sides"]["current"], row.result["sides"]["draft"]
    assert current["thresholds"] == draft["thresholds"]
    assert [tier["customers"] for tier in current["tiers"]][:2] == [0, 4]
    assert [tier["customers"] for tier in draft["tiers"]][:2] == [4, 0]
    assert {item["code"] for item in draft["misplaced"]["lapsed"]} == {book["quitter"].code}
    assert row.result["draft_name"] == default_profile.name


def test_draft_thresholds_and_calibration(book):
    row = run(as_of=T, thresholds={"core": 85, "potential": 70})
    assert row.result["sides"]["draft"]["thresholds"]["core"] == 85.0
    assert row.result["sides"]["current"]["thresholds"]["core"] == 75.0

    calibrated = run(as_of=T, calibrate=True)
    side = calibrated.result["sides"]["current"]
    assert side["calibrated"] is True
    # 5% of 20 customers is one; the three steady customers share the top score and stay together.
    assert side["thresholds"]["vip"] == 89.25
    assert side["tiers"][0]["customers"] == 3


# --- the task ------------------------------------------------------------------------------------


def test_the_task_records_a_failure_with_its_reason(book, default_profile, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = backtest_services.suggestion_create(profile=default_profile, as_of=T, today=TODAY)
    ScoringProfile.objects.filter(pk=default_profile.pk).update(is_active=False)  # deactivated meanwhile
    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.status == Backtest.Status.FAILED
    assert row.error == "The profile of this suggestion has been deleted or deactivated."


def test_the_queries_do_not_grow_with_the_customers(book, django_assert_max_num_queries):
    with django_assert_max_num_queries(40):
        row = run(as_of=T)
    assert row.status == Backtest.Status.SUCCEEDED
    for n in range(30):
        customer = CustomerFactory(name=f"More {n}", cooperation_since=datetime.date(2020, 1, 1))
        orders(customer, amount="500", count=2, start=BEFORE[0], end=AFTER[1])
    with django_assert_max_num_queries(40):
        row = run(as_of=T)
    assert row.result["data"]["customers"] == 50
