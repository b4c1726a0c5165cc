"""Results per tier and quarter, each figure checked against data whose answer is known by hand.

The cast (tier at each quarter's first day from the runs below; the manager's customers unless said):

    runs: R0 partial 2026-06-01, R1 full 2026-07-01, R2 partial 2026-09-01, and three that never
    count for 2026-Q4: a dry run and a failed run as of 2026-10-01, a run as of 2026-10-15.

    A  core/core        orders 2025-08-10 100; 2026-07-05 100, 2026-08-05 300; 2026-10-20 200
    B  core/VIP (R2)    orders 2025-03-01 50; 2026-09-10 500
    C  core/core        orders 2025-12-01 50 (ordered last year, not this year)
    D  none/none        only in R0, which the full run R1 supersedes; no orders
    E  dormant/dormant  orders 2024-05-01 10; 2026-08-20 80
    F  dormant/dormant  no orders
    G  none             prospect created 2026-05-01; first order 2026-07-15 1000
    H  none             prospect created 2026-05-01; no orders
    I  none             prospect created 2026-11-01; first order 2026-11-10 300
    O  core (outsider's customer): orders 2026-07-02 100, 2026-07-03 100
"""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_celery_beat.models import PeriodicTask

from commitments import results, tasks
from commitments.models import Case
from commitments.results import Quarter, quarters_default, quarters_parse, results_cached, results_for
from core.exceptions import DomainError
from crm.models import Customer
from crm.tests.factories import CustomerFactory, OrderFactory
from service.models import ContactStatus, Task
from tiering.models import TierRun
from tiering.tests.factories import TierAssignmentFactory, TierRunFactory, tier

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 15, 12, 0, tzinfo=SHANGHAI)
Q3, Q4 = Quarter(2026, 3), Quarter(2026, 4)


def at(*parts) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=SHANGHAI)


def customer(manager, created: datetime.date = datetime.date(2026, 1, 1), **fields):
    made = CustomerFactory(account_manager=manager, **fields)
    Customer.objects.filter(pk=made.pk).update(created_at=at(created.year, created.month, created.day, 9))
    return made


def orders(owner, *rows):
    for day, amount in rows:
        OrderFactory(customer=owner, ordered_at=day, amount=Decimal(amount))


def assign(run, **tiers_by_customer):
    for owner, code in tiers_by_customer.values():
        TierAssignmentFactory(run=run, customer=owner, computed_tier=tier(code))


@pytest.fixture
def cast(manager, outsider):
    c = {name: customer(manager) for name in "ABCDEF"}
    c["G"] = customer(manager, datetime.date(2026, 5, 1), cooperation_since=None)
    c["H"] = customer(manager, datetime.date(2026, 5, 1), cooperation_since=None)
    c["I"] = customer(manager, datetime.date(2026, 11, 1), cooperation_since=None)
    c["O"] = customer(outsider)
    D = datetime.date
    orders(c["A"], (D(2025, 8, 10), "100"), (D(2026, 7, 5), "100"), (D(2026, 8, 5), "300"), (D(2026, 10, 20), "200"))
    orders(c["B"], (D(2025, 3, 1), "50"), (D(2026, 9, 10), "500"))
    orders(c["C"], (D(2025, 12, 1), "50"))
    orders(c["E"], (D(2024, 5, 1), "10"), (D(2026, 8, 20), "80"))
    orders(c["G"], (D(2026, 7, 15), "1000"))
    orders(c["I"], (D(2026, 11, 10), "300"))
    orders(c["O"], (D(2026, 7, 2), "100"), (D(2026, 7, 3), "100"))

    partial = TierRun.Scope.VIP_AND_AT_RISK
    r0 = TierRunFactory(period="2026-06", as_of=D(2026, 6, 1), scope=partial)
    assign(r0, C=(c["C"], "vip"), D=(c["D"], "ordinary"))
    r1 = TierRunFactory(period="2026-Q3", as_of=D(2026, 7, 1))
    codes = ["core", "core", "core", "dormant", "dormant", "core"]
    assign(r1, **{name: (c[name], code) for name, code in zip("ABCEFO", codes, strict=True)})
    r2 = TierRunFactory(period="2026-09", as_of=D(2026, 9, 1), scope=partial)
    assign(r2, B=(c["B"], "vip"))
    dry = TierRunFactory(period="2026-Q4", as_of=D(2026, 10, 1), dry_run=True)
    failed = TierRunFactory(period="2026-Q4", as_of=D(2026, 10, 1), status=TierRun.Status.FAILED)
    late = TierRunFactory(period="2026-Q4", as_of=D(2026, 10, 15))
    for run in (dry, failed, late):
        assign(run, A=(c["A"], "vip"), C=(c["C"], "vip"))
    return c


def values(figure: str, table, quarter: Quarter) -> dict:
    """{tier code: (value, n, met, reference)} of one figure in one quarter."""
    found = {}
    for column in table.tiers:
        cell = table.cell(figure, quarter, column.id)
        if cell is not None:
            found[column.code] = (cell.value, cell.n, cell.met, cell.reference)
    return found


@pytest.fixture
def table(cast, manager, django_assert_max_num_queries):
    # One query per figure (SLA compliance and the median share one on PostgreSQL; SQLite lists the
    # grouped response times in one more), the tiers at the quarters' starts into a temporary table
    # and its drop (PostgreSQL also analyses it), the tiers, the promise for customers without a
    # tier, the user's permissions (2), and the transaction around the figures (a savepoint and its
    # release here; PostgreSQL also sets its work_mem in it): never one per customer.
    with django_assert_max_num_queries(18):
        return results_for(manager, [Q3, Q4], now=NOW)


def test_the_tier_of_a_quarter_is_the_one_recorded_at_its_first_day(table):
    # B became VIP in the partial run of September; D's tier from June was superseded by the
    # full run of July, which had no D; the dry, failed and late runs of Q4 count for nobody.
    assert values("repurchase_rate", table, Q4) == {"core": (0.0, 1, 0, None), "none": (0.0, 1, 0, None)}
    assert values("retention_rate", table, Q4) == {"vip": (100.0, 1, 1, None), "core": (50.0, 2, 1, None)}
    assert [t.code for t in table.tiers] == ["vip", "core", "potential", "ordinary", "dormant", "none"]


def test_repurchase_rate_counts_buyers_with_two_orders(table):
    assert values("repurchase_rate", table, Q3) == {
        "core": (50.0, 2, 1, None),  # A twice, B once
        "dormant": (0.0, 1, 0, None),  # E once
        "none": (0.0, 1, 0, None),  # G, a prospect then
    }


def test_dormant_activation_is_the_share_of_dormant_customers_who_ordered(table):
    assert values("dormant_activation_rate", table, Q3) == {"dormant": (50.0, 2, 1, None)}
    assert values("dormant_activation_rate", table, Q4) == {"dormant": (0.0, 2, 0, None)}


def test_retention_is_last_years_buyers_who_ordered_this_year(table):
    assert values("retention_rate", table, Q3) == {"core": (66.7, 3, 2, None)}  # C has not come back


def test_prospect_conversion_is_a_first_order_in_the_quarter(table):
    # Q3: D, G, H had no order before it (I did not exist yet); G ordered. Q4: D, H, I; I ordered.
    assert values("prospect_conversion_rate", table, Q3) == {"dormant": (0.0, 1, 0, None), "none": (33.3, 3, 1, None)}
    assert values("prospect_conversion_rate", table, Q4) == {"dormant": (0.0, 1, 0, None), "none": (33.3, 3, 1, None)}


def test_average_order_value_and_its_change_against_a_year_earlier(table):
    assert values("average_order_value", table, Q3) == {
        "core": (300.0, 3, None, 100.0),
        "dormant": (80.0, 1, None, None),
        "none": (1000.0, 1, None, None),
    }
    assert values("average_order_value_change", table, Q3)["core"] == (200.0, 3, None, 100.0)
    assert values("average_order_value_change", table, Q3)["dormant"] == (None, 1, None, None)
    # Q4: A's 200 against C's 50 in Q4 2025 (both core at the start of 2026-Q4).
    assert values("average_order_value_change", table, Q4)["core"] == (300.0, 1, None, 50.0)


def test_an_administrator_sees_every_customer_and_an_outsider_only_their_own(cast, admin_user, outsider):
    everyone = results_for(admin_user, [Q3], now=NOW)
    assert values("repurchase_rate", everyone, Q3)["core"] == (66.7, 3, 2, None)  # O's two orders count
    assert values("average_order_value", everyone, Q3)["core"] == (220.0, 5, None, 100.0)
    theirs = results_for(outsider, [Q3], now=NOW)
    assert values("repurchase_rate", theirs, Q3) == {"core": (100.0, 1, 1, None)}
    assert values("retention_rate", theirs, Q3) == {}


def open_case(owner, manager, code, opened, due, answered=None, seconds=None):
    return Case.objects.create(
        customer=owner,
        kind=Case.Kind.REQUEST,
        subject="Machine stopped",
        owner=manager,
        opened_at=opened,
        tier=tier(code) if code else None,
        response_minutes=int((due - opened).total_seconds() // 60),
        clock="24x7",
        first_response_due_at=due,
        reminder_at=due,
        first_response_at=answered,
        first_response_seconds=seconds,
    )


def test_first_response_compliance_and_median_by_the_tier_at_opening(cast, manager):
    A, G, theirs = cast["A"], cast["G"], cast["O"]
    open_case(A, manager, "core", at(2026, 10, 5, 10), at(2026, 10, 5, 12), at(2026, 10, 5, 11), 3600)
    open_case(A, manager, "core", at(2026, 10, 6, 10), at(2026, 10, 6, 12), at(2026, 10, 6, 13), 10800)
    open_case(A, manager, "core", at(2026, 11, 2, 10), at(2026, 11, 2, 12))  # past due, unanswered
    open_case(A, manager, "core", at(2026, 11, 15, 11), at(2026, 11, 15, 13))  # not due yet: not measured
    open_case(A, manager, "vip", at(2026, 9, 1, 10), at(2026, 9, 1, 10, 15), at(2026, 9, 1, 10, 5), 300)
    open_case(G, manager, None, at(2026, 10, 7, 10), at(2026, 10, 8, 10), at(2026, 10, 7, 10, 10), 600)
    open_case(theirs, theirs.account_manager, "core", at(2026, 10, 5, 10), at(2026, 10, 5, 12))  # the outsider's
    table = results_for(manager, [Q3, Q4], now=NOW)
    assert values("sla_compliance", table, Q4) == {"core": (33.3, 3, 1, None), "none": (100.0, 1, 1, None)}
    assert values("sla_compliance", table, Q3) == {"vip": (100.0, 1, 1, None)}
    # Median of 60 and 180 minutes, against the tier's promise; without a tier, the 24-hour default.
    assert values("median_first_response", table, Q4) == {
        "core": (120.0, 2, None, 120),
        "none": (10.0, 1, None, 1440),
    }
    assert values("median_first_response", table, Q3) == {"vip": (5.0, 1, None, 15)}


def test_contact_plan_compliance_exists_for_the_current_quarter_only(cast, manager):
    ContactStatus.objects.all().delete()
    for name, code, due in [("A", "core", "2026-11-20"), ("C", "core", "2026-11-01"), ("B", "vip", None)]:
        ContactStatus.objects.create(customer=cast[name], tier=tier(code), due_on=due)
    ContactStatus.objects.create(customer=cast["O"], tier=tier("core"), due_on="2026-01-01")  # the outsider's
    table = results_for(manager, [Q3, Q4], now=NOW)
    assert values("contact_plan_compliance", table, Q4) == {"vip": (100.0, 1, 1, None), "core": (50.0, 2, 1, None)}
    assert values("contact_plan_compliance", table, Q3) == {}


def test_playbook_tasks_on_time_are_those_completed_by_their_due_time(cast, manager):
    A, E = cast["A"], cast["E"]

    def task(owner, due, status="open", completed=None, source=Task.Source.PLAYBOOK):
        Task.objects.create(
            customer=owner,
            title="Win-back call",
            owner=manager,
            due_at=due,
            status=status,
            completed_at=completed,
            source=source,
        )

    task(A, at(2026, 10, 10, 10), "done", at(2026, 10, 9, 18))  # on time
    task(A, at(2026, 10, 12, 10), "done", at(2026, 10, 13, 9))  # late
    task(A, at(2026, 11, 1, 10))  # open and overdue: late
    task(A, at(2026, 12, 1, 10))  # not due yet: not counted
    task(A, at(2026, 10, 20, 10), "cancelled")  # cancelled: not counted
    task(A, at(2026, 10, 20, 10), "done", at(2026, 10, 19), source=Task.Source.MANUAL)  # not a playbook's
    task(E, at(2026, 8, 1, 10), "done", at(2026, 7, 30))
    table = results_for(manager, [Q3, Q4], now=NOW)
    assert values("playbook_tasks_on_time", table, Q4) == {"core": (33.3, 3, 1, None)}
    assert values("playbook_tasks_on_time", table, Q3) == {"dormant": (100.0, 1, 1, None)}


def test_a_forced_rerun_replaces_the_answer_of_the_run_it_repeats(manager):
    owner = customer(manager)
    OrderFactory(customer=owner, ordered_at=datetime.date(2026, 10, 3), amount=Decimal("10"))
    OrderFactory(customer=owner, ordered_at=datetime.date(2026, 10, 4), amount=Decimal("10"))
    first = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 10, 1))
    TierAssignmentFactory(run=first, customer=owner, computed_tier=tier("core"))
    rerun = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 10, 1), forced=True)
    TierAssignmentFactory(run=rerun, customer=owner, computed_tier=tier("potential"))
    table = results_for(manager, [Q4], now=NOW)
    assert values("repurchase_rate", table, Q4) == {"potential": (100.0, 1, 1, None)}


def test_nobody_sees_anything_without_signing_in(cast):
    from django.contrib.auth.models import AnonymousUser

    table = results_for(AnonymousUser(), [Q3], now=NOW)
    assert table.cells == {}


@translation.override("en")
def test_every_figure_carries_its_definition_and_the_api_and_csv_shapes_agree(table):
    shape = table.as_dict()
    assert [figure["key"] for figure in shape["figures"]] == [figure.key for figure in results.FIGURES]
    assert all(figure["definition"] and figure["label"] for figure in shape["figures"])
    repurchase = shape["figures"][0]
    assert {"quarter": "2026-Q3", "tier": "core", "value": 50.0, "n": 2, "met": 1, "reference": None} in repurchase[
        "values"
    ]
    assert shape["quarters"][0] == {
        "quarter": "2026-Q3",
        "start": datetime.date(2026, 7, 1),
        "end": datetime.date(2026, 9, 30),
    }
    rows = table.csv_rows()
    assert rows[0][:5] == ["figure", "quarter", "tier", "tier name", "value"]
    assert ["Repurchase rate", "2026-Q3", "core"] == rows[1][:3] and rows[1][4] == 50.0
    assert len(rows) - 1 == sum(len(figure["values"]) for figure in shape["figures"])
    assert table.csv_text().startswith("\ufefffigure,quarter,tier")
    assert table.series("repurchase_rate", tier("core").pk) == [50.0, 0.0]


def test_a_tier_name_that_looks_like_a_formula_is_quoted_in_the_csv(cast, manager):
    tier("core").__class__.objects.filter(code="core").update(name_en="=HYPERLINK(1)", name_zh="=HYPERLINK(1)")
    rows = results_for(manager, [Q3], now=NOW).csv_rows()
    assert {row[3] for row in rows[1:] if row[2] == "core"} == {"'=HYPERLINK(1)"}


def test_cached_results_are_shared_by_visibility_and_recomputed_after_expiry(cast, manager, admin_user):
    cache.clear()
    first = results_cached(manager, [Q3])
    OrderFactory(customer=cast["B"], ordered_at=datetime.date(2026, 9, 11))
    assert results_cached(manager, [Q3]).cells == first.cells  # the cached numbers
    assert results_cached(admin_user, [Q3]).cells != first.cells  # another visibility, its own numbers
    cache.clear()
    assert values("repurchase_rate", results_cached(manager, [Q3]), Q3)["core"] == (100.0, 2, 2, None)


def test_quarters_are_parsed_with_errors_naming_the_field():
    today = datetime.date(2026, 11, 15)
    assert quarters_parse("2026-Q3, 2026q1,2026-Q3", today=today) == [Quarter(2026, 1), Quarter(2026, 3)]
    assert (
        quarters_parse("", today=today)
        == quarters_default(today)
        == [
            Quarter(2026, 1),
            Quarter(2026, 2),
            Quarter(2026, 3),
            Quarter(2026, 4),
        ]
    )
    for bad in ("2026-Q5", "last year", "2027-Q1", "1800-Q1", ",".join(f"{y}-Q1" for y in range(2000, 2014))):
        with pytest.raises(DomainError) as error:
            quarters_parse(bad, today=today)
        assert list(error.value.fields) == ["quarters"]
    assert Quarter(2026, 4).stop == datetime.date(2027, 1, 1)
    assert Quarter(2026, 1).shifted(-1) == Quarter(2025, 4)


def test_without_a_full_run_the_partial_runs_give_the_tier(manager):
    owner = customer(manager)
    for day in (3, 4):
        OrderFactory(customer=owner, ordered_at=datetime.date(2026, 10, day), amount=Decimal("10"))
    partial = TierRun.Scope.VIP_AND_AT_RISK
    august = TierRunFactory(period="2026-08", as_of=datetime.date(2026, 8, 1), scope=partial)
    TierAssignmentFactory(run=august, customer=owner, computed_tier=tier("core"))
    september = TierRunFactory(period="2026-09", as_of=datetime.date(2026, 9, 1), scope=partial)
    TierAssignmentFactory(run=september, customer=owner, computed_tier=tier("vip"))
    table = results_for(manager, [Q4], now=NOW)
    assert values("repurchase_rate", table, Q4) == {"vip": (100.0, 1, 1, None)}


def test_the_refresh_task_computes_the_company_wide_figures_ahead_of_their_readers(
    cast, admin_user, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False):
        assert tasks.results_refresh() > 0
        with django_assert_max_num_queries(3):  # the tiers and the administrator's permissions: no figure
            table = results_cached(admin_user, quarters_default(NOW.date()))
    assert values("repurchase_rate", table, Q3)["core"] == (66.7, 3, 2, None)
    assert table.computed_at == NOW


def test_beat_runs_the_sweeps_every_minute_and_the_refresh_every_five():
    rows = {
        row.task: (row.crontab.minute, row.crontab.hour, row.enabled)
        for row in PeriodicTask.objects.filter(task__startswith="commitments.").select_related("crontab")
    }
    assert rows == {
        "commitments.tasks.sla_sweep": ("*", "*", True),
        "commitments.tasks.playbooks_sweep": ("*", "*", True),
        "commitments.tasks.results_refresh": ("*/5", "*", True),
    }


def test_the_number_of_queries_does_not_grow_with_the_customers(cast, manager):
    results_for(manager, [Q3], now=NOW)  # the user's permissions are read once, then kept on the user
    with CaptureQueriesContext(connection) as few:
        results_for(manager, [Q3, Q4], now=NOW)
    run = TierRun.objects.get(period="2026-Q3", dry_run=False)
    for _ in range(20):
        more = customer(manager)
        orders(more, (datetime.date(2026, 7, 9), "10"), (datetime.date(2026, 10, 9), "10"))
        TierAssignmentFactory(run=run, customer=more, computed_tier=tier("potential"))
    with CaptureQueriesContext(connection) as many:
        table = results_for(manager, [Q3, Q4], now=NOW)
    assert len(many) == len(few)
    assert values("repurchase_rate", table, Q3)["potential"] == (0.0, 20, 0, None)
