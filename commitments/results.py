"""Results per tier and per quarter: what the promises to each tier achieved.

Every figure is set-based: one aggregate query over all the tiers and quarters asked (never one per
customer), so the cost grows with the orders in the quarters asked, not with a loop. The figures,
their definitions (in both languages, through gettext) and the numbers behind each value live in
one `Results` structure that the results page, its CSV export and `GET /api/v1/results/` all read.

Which tier a customer belongs to in a quarter (docs/results.md says the same for readers):

- Order figures and playbook tasks: the tier its history recorded as of the quarter's first day,
  i.e. its assignment in the latest successful (not dry) tier run with an as-of date on or before
  that day, later partial runs (VIP and at-risk) included. The quarterly run of the 1st is such a
  run, so this is the tier the customer was served as during the quarter. History is append-only,
  so a past quarter's tiers never move, except that a forced rerun of a run on or before the day
  replaces that run's answer. Customers without such an assignment (prospects, customers created
  since) count as "without a tier".
- Cases: the tier stored on the case at opening (the one whose promise set its clock).
- Contact-plan compliance: the customer's contact status today, by the tier of its contact plan;
  it exists for the current quarter only (contact statuses are kept current, not historical).

Median first response: on PostgreSQL `percentile_cont(0.5)` in the database; on other databases
(SQLite, the embedded default) the same aggregate query returns each tier's response times and
Python takes the median of those already-grouped lists. Response times are measured on the case's
own clock (business time on a business-hours clock), so they compare with the promise.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import statistics
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Aggregate, Count, F, FloatField, Q, Value, When
from django.db.models import Case as Choose
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commitments.models import Case, ServiceLevel
from core.access import user_sees_all_customers
from core.exceptions import DomainError
from scoring.models import Tier
from service.models import ContactStatus, Task
from tiering.models import TierRun

MAX_QUARTERS = 12
DEFAULT_QUARTERS = 4
CACHE_SECONDS = 600  # a results view is at most ten minutes old; each value says when it was computed
CACHE_VERSION = 1
WORK_MEM = "64MB"
STANDING_TABLE = "commitments_results_standing"  # temporary: one per computation, dropped after it
QUARTER_PATTERN = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
NO_TIER = "none"  # the code of the "without a tier" column in the API and the CSV


# --- quarters --------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def containing(cls, day: datetime.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def stop(self) -> datetime.date:
        """The first day after the quarter."""
        return self.shifted(1).start

    def shifted(self, quarters: int) -> Quarter:
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    def __str__(self) -> str:
        return self.label


def quarters_default(today: datetime.date, count: int = DEFAULT_QUARTERS) -> list[Quarter]:
    """The last `count` quarters, the current one included, oldest first."""
    current = Quarter.containing(today)
    return [current.shifted(-n) for n in range(count - 1, -1, -1)]


def quarters_parse(text: str | None, *, today: datetime.date) -> list[Quarter]:
    """`2026-Q1,2026-Q2` (also `2026Q1`) -> quarters, oldest first; empty -> the default four.
    Bad input is a DomainError naming the `quarters` field."""
    if text is None or not text.strip():
        return quarters_default(today)
    current = Quarter.containing(today)
    found: set[Quarter] = set()
    for item in text.split(","):
        match = QUARTER_PATTERN.match(item.strip())
        if not match:
            raise _quarters_error(_("%(value)r is not a quarter such as 2026-Q3.") % {"value": item.strip()[:20]})
        quarter = Quarter(int(match.group(1)), int(match.group(2)))
        if quarter > current:
            raise _quarters_error(_("%(quarter)s has not begun yet.") % {"quarter": quarter.label})
        if quarter.year < 1901:
            raise _quarters_error(_("%(quarter)s is too early.") % {"quarter": quarter.label})
        found.add(quarter)
    if len(found) > MAX_QUARTERS:
        raise _quarters_error(_("At most %(max)d quarters at a time.") % {"max": MAX_QUARTERS})
    return sorted(found)


def _quarters_error(message: str) -> DomainError:
    return DomainError(_("Invalid quarters."), code="invalid", fields={"quarters": [message]})


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


# --- the figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    key: str
    label: str  # lazy: translated when rendered
    definition: str  # lazy
    unit: str  # percent, minutes, amount, change (a percentage change)
    n_label: str  # lazy: what `n` counts
    met_label: str = ""  # lazy: what `met` counts, for shares
    reference_label: str = ""  # lazy: what `reference` is, where there is one


FIGURES = [
    Figure(
        "repurchase_rate",
        gettext_lazy("Repurchase rate"),
        gettext_lazy(
            "Of the tier's customers who ordered in the quarter, the share with 2 or more orders in it. "
            "Tier: the one recorded by the last tier run on or before the quarter's first day."
        ),
        "percent",
        gettext_lazy("customers with an order"),
        gettext_lazy("customers with 2 or more orders"),
    ),
    Figure(
        "dormant_activation_rate",
        gettext_lazy("Dormant activation rate"),
        gettext_lazy(
            "Of the customers in the lowest tier (dormant) at the quarter's first day, the share who "
            "ordered in the quarter. Only the lowest tier has this figure."
        ),
        "percent",
        gettext_lazy("dormant customers at the start"),
        gettext_lazy("of them with an order in the quarter"),
    ),
    Figure(
        "retention_rate",
        gettext_lazy("Retention"),
        gettext_lazy(
            "Of the tier's customers who ordered last calendar year, the share who have ordered this "
            "year, from 1 January to the quarter's end (Q4 gives the whole year's retention). "
            "Tier at the quarter's first day."
        ),
        "percent",
        gettext_lazy("customers who ordered last year"),
        gettext_lazy("of them with an order this year"),
    ),
    Figure(
        "prospect_conversion_rate",
        gettext_lazy("Prospect conversion"),
        gettext_lazy(
            "Of the customers with no order before the quarter (prospects) and on record by its end, the "
            "share whose first order came in the quarter. Prospects have no tier, so this figure sits "
            "mostly under “without a tier”."
        ),
        "percent",
        gettext_lazy("customers with no order before the quarter"),
        gettext_lazy("of them with a first order in the quarter"),
    ),
    Figure(
        "average_order_value",
        gettext_lazy("Average order value"),
        gettext_lazy(
            "The quarter's order amount divided by its number of orders, for the tier's customers "
            "(tier at the quarter's first day); the reference is the same customers' average order "
            "value in the same quarter a year earlier."
        ),
        "amount",
        gettext_lazy("orders in the quarter"),
        reference_label=gettext_lazy("average order value a year earlier"),
    ),
    Figure(
        "average_order_value_change",
        gettext_lazy("Average order value change"),
        gettext_lazy(
            "The change of the average order value against the same quarter a year earlier, for the "
            "same customers (tier at the quarter's first day), in percent."
        ),
        "change",
        gettext_lazy("orders in the quarter"),
        reference_label=gettext_lazy("average order value a year earlier"),
    ),
    Figure(
        "sla_compliance",
        gettext_lazy("First-response SLA compliance"),
        gettext_lazy(
            "Of the cases opened in the quarter that were answered or are past their first-response "
            "deadline, the share answered by the deadline. Tier: the one stored on the case at opening, "
            "whose promise set its clock."
        ),
        "percent",
        gettext_lazy("cases answered or past due"),
        gettext_lazy("answered in time"),
    ),
    Figure(
        "median_first_response",
        gettext_lazy("Median first response"),
        gettext_lazy(
            "The median time to the first response of the cases opened in the quarter and answered, in "
            "minutes on each case's own clock (working minutes on a business-hours clock, so nights, "
            "weekends and holidays do not count); the reference is the tier's promised first response."
        ),
        "minutes",
        gettext_lazy("cases answered"),
        reference_label=gettext_lazy("promised first response (minutes)"),
    ),
    Figure(
        "contact_plan_compliance",
        gettext_lazy("Contact-plan compliance"),
        gettext_lazy(
            "The share of customers with a contact plan who are not overdue for contact today, by the "
            "tier of their plan. Contact status is kept current, not historical: only the current "
            "quarter has this figure."
        ),
        "percent",
        gettext_lazy("customers with a contact plan"),
        gettext_lazy("not overdue"),
    ),
    Figure(
        "playbook_tasks_on_time",
        gettext_lazy("Playbook tasks done on time"),
        gettext_lazy(
            "Of the playbook tasks due in the quarter that are done or past due (cancelled ones left "
            "out), the share completed by their due time. Tier of the customer at the quarter's first day."
        ),
        "percent",
        gettext_lazy("playbook tasks due"),
        gettext_lazy("done on time"),
    ),
]
FIGURES_BY_KEY = {figure.key: figure for figure in FIGURES}


@dataclass(frozen=True)
class Cell:
    value: float | None
    n: int = 0
    met: int | None = None
    reference: float | None = None


@dataclass(frozen=True)
class TierColumn:
    id: int | None
    code: str
    name: str
    rank: int | None


@dataclass
class Results:
    """Figures x quarters x tiers. `cells[(figure key, quarter label, tier id or None)]`."""

    quarters: list[Quarter]
    tiers: list[TierColumn]
    cells: dict[tuple[str, str, int | None], Cell]
    computed_at: datetime.datetime
    figures: list[Figure] = field(default_factory=lambda: list(FIGURES))

    def cell(self, figure: str, quarter: Quarter | str, tier_id: int | None) -> Cell | None:
        return self.cells.get((figure, str(quarter), tier_id))

    def series(self, figure: str, tier_id: int | None) -> list[float | None]:
        """The figure's values over the quarters (oldest first): a trend chart's points."""
        return [getattr(self.cell(figure, quarter, tier_id), "value", None) for quarter in self.quarters]

    def as_dict(self) -> dict:
        """The API's shape: texts in the active language, one entry per figure, quarter and tier."""
        tiers = {tier.id: tier for tier in self.tiers}
        return {
            "computed_at": self.computed_at,
            "quarters": [
                {"quarter": q.label, "start": q.start, "end": q.stop - datetime.timedelta(days=1)}
                for q in self.quarters
            ],
            "tiers": [{"code": t.code, "name": t.name, "rank": t.rank} for t in self.tiers],
            "figures": [
                {
                    "key": figure.key,
                    "label": str(figure.label),
                    "definition": str(figure.definition),
                    "unit": figure.unit,
                    "n_label": str(figure.n_label),
                    "met_label": str(figure.met_label),
                    "reference_label": str(figure.reference_label),
                    "values": [
                        {
                            "quarter": quarter.label,
                            "tier": tiers[tier_id].code,
                            "value": cell.value,
                            "n": cell.n,
                            "met": cell.met,
                            "reference": cell.reference,
                        }
                        for quarter in self.quarters
                        for tier_id in tiers
                        if (cell := self.cell(figure.key, quarter, tier_id)) is not None
                    ],
                }
                for figure in self.figures
            ],
        }

    def csv_rows(self) -> list[list]:
        """Header and one row per figure, quarter and tier (texts in the active language)."""
        rows: list[list] = [
            [
                _("figure"),
                _("quarter"),
                _("tier"),
                _("tier name"),
                _("value"),
                _("unit"),
                _("count"),
                _("met"),
                _("reference"),
                _("definition"),
            ]
        ]
        for figure in self.figures:
            for quarter in self.quarters:
                for tier in self.tiers:
                    cell = self.cell(figure.key, quarter, tier.id)
                    if cell is None:
                        continue
                    rows.append(
                        [
                            _spreadsheet_text(str(figure.label)),
                            quarter.label,
                            _spreadsheet_text(tier.code),
                            _spreadsheet_text(tier.name),
                            cell.value,
                            figure.unit,
                            cell.n,
                            cell.met,
                            cell.reference,
                            _spreadsheet_text(str(figure.definition)),
                        ]
                    )
        return rows

    def csv_text(self) -> str:
        buffer = io.StringIO()
        buffer.write("\ufeff")  # byte-order mark: spreadsheet programs then read the Chinese text correctly
        writer = csv.writer(buffer)
        for row in self.csv_rows():
            writer.writerow(["" if value is None else value for value in row])
        return buffer.getvalue()


def _spreadsheet_text(text: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (names are admin-edited)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _share(met, n) -> float | None:
    """A percentage to one decimal (counts may come back as Decimal: PostgreSQL sums to numeric)."""
    return round(100.0 * float(met) / float(n), 1) if n else None


# --- the queries ---------------------------------------------------------------------------------


class _Median(Aggregate):
    """PostgreSQL's median of a column, computed in the database."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True)
class _Scope:
    """The customers a user sees, as SQL for the raw queries: every customer, or one manager's."""

    manager_id: int | None  # None: every customer

    def rows(self, queryset, customer_path: str = "customer"):
        """The rows of `queryset` about the customers in scope (core.access's rule, for a scope)."""
        if self.manager_id is None:
            return queryset
        return queryset.filter(**{f"{customer_path}__account_manager_id": self.manager_id})

    def join(self, customer_column: str) -> tuple[str, list]:
        if self.manager_id is None:
            return "", []
        return (
            f" JOIN crm_customer vis ON vis.id = {customer_column} AND vis.account_manager_id = %s",
            [self.manager_id],
        )


def _quarters_cte(quarters: list[Quarter]) -> tuple[str, list]:
    """A quarters table: q (label), start/stop days and moments (business time zone), 1 January of
    the quarter's year and of the year before, and the same quarter a year earlier."""
    ops = connection.ops
    rows, params = [], []
    for quarter in quarters:
        year_before = Quarter(quarter.year - 1, quarter.number)
        rows.append("(%s, %s, %s, %s, %s, %s, %s, %s, %s)")
        params += [
            quarter.label,
            ops.adapt_datefield_value(quarter.start),
            ops.adapt_datefield_value(quarter.stop),
            ops.adapt_datetimefield_value(_local_midnight(quarter.start)),
            ops.adapt_datetimefield_value(_local_midnight(quarter.stop)),
            ops.adapt_datefield_value(datetime.date(quarter.year, 1, 1)),
            ops.adapt_datefield_value(datetime.date(quarter.year - 1, 1, 1)),
            ops.adapt_datefield_value(year_before.start),
            ops.adapt_datefield_value(year_before.stop),
        ]
    sql = (
        "quarters (q, start_on, stop_on, start_at, stop_at, year_start, last_year_start, ly_start, ly_stop) AS "
        f"(VALUES {', '.join(rows)})"  # placeholders only: every value is a parameter
    )
    return sql, params


def _standing_cte(scope: _Scope) -> tuple[str, list]:
    """Each visible customer's tier at each quarter's first day, from the append-only history: the
    latest successful, non-dry full run on or before that day (`full_run`), overridden for their
    customers by the successful partial runs after it and still on or before that day (`later`);
    runs before the full run are superseded by it. Runs are ordered by as-of date, then start.

    Written so that the usual case (the quarterly run of the first day, no partial run after it
    yet) reads that run's assignments through its index, with no sort of the whole history."""
    done = TierRun.Status.SUCCEEDED
    visible_later, later_params = scope.join("b.customer_id")
    visible_full, full_params = scope.join("a.customer_id")
    sql = (
        "full_run AS (SELECT qs.q, r.id AS run_id, r.as_of, r.created_at FROM quarters qs "  # noqa: S608 (fixed SQL; values are parameters)
        "JOIN tiering_tierrun r ON r.id = (SELECT f.id FROM tiering_tierrun f WHERE f.status = %s "
        "AND f.dry_run = %s AND f.scope = %s AND f.as_of <= qs.start_on "
        "ORDER BY f.as_of DESC, f.created_at DESC, f.id DESC LIMIT 1)), "
        "later AS (SELECT qs.q, r.id AS run_id, r.as_of, r.created_at FROM quarters qs "
        "JOIN tiering_tierrun r ON r.as_of <= qs.start_on AND r.status = %s AND r.dry_run = %s "
        "LEFT JOIN full_run fr ON fr.q = qs.q WHERE fr.run_id IS NULL OR r.as_of > fr.as_of "
        "OR (r.as_of = fr.as_of AND (r.created_at > fr.created_at OR (r.created_at = fr.created_at "
        "AND r.id > fr.run_id)))), "
        "later_latest AS (SELECT q, customer_id, tier_id FROM (SELECT later.q, b.customer_id, b.tier_id, "
        "ROW_NUMBER() OVER (PARTITION BY later.q, b.customer_id "
        "ORDER BY later.as_of DESC, later.created_at DESC, later.run_id DESC) AS n "
        f"FROM later JOIN tiering_tierassignment b ON b.run_id = later.run_id{visible_later}) ranked WHERE n = 1), "
        "standing AS (SELECT fr.q, a.customer_id, COALESCE(l.tier_id, a.tier_id) AS tier_id FROM full_run fr "
        f"JOIN tiering_tierassignment a ON a.run_id = fr.run_id{visible_full} "
        "LEFT JOIN later_latest l ON l.q = fr.q AND l.customer_id = a.customer_id "
        "UNION ALL SELECT l.q, l.customer_id, l.tier_id FROM later_latest l WHERE NOT EXISTS (SELECT 1 "
        "FROM full_run fr JOIN tiering_tierassignment a ON a.run_id = fr.run_id "
        "WHERE fr.q = l.q AND a.customer_id = l.customer_id))"
    )
    return sql, [done, False, TierRun.Scope.ALL, done, False, *later_params, *full_params]


def _years_cte(quarters: list[Quarter]) -> tuple[str, list]:
    """The calendar years the retention figure reads: each quarter's year and the year before."""
    ops = connection.ops
    years = sorted({year for q in quarters for year in (q.year - 1, q.year)})
    rows = ", ".join(["(%s, %s)"] * len(years))
    params = []
    for year in years:
        params += [
            ops.adapt_datefield_value(datetime.date(year, 1, 1)),
            ops.adapt_datefield_value(datetime.date(year + 1, 1, 1)),
        ]
    return f"years (y_start, y_stop) AS (VALUES {rows})", params  # placeholders only


def _run(
    quarters: list[Quarter],
    scope: _Scope,
    body: str,
    body_params: list,
    *,
    standing: bool = True,
    extra: tuple[str, list] | None = None,
) -> list:
    quarters_sql, params = _quarters_cte(quarters)
    parts = [quarters_sql]
    if standing:
        parts.append(f"standing AS (SELECT q, customer_id, tier_id FROM {STANDING_TABLE})")  # noqa: S608 (fixed name)
    if extra is not None:
        parts.append(extra[0])
        params += extra[1]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} {body}", [*params, *body_params])  # noqa: S608 (fixed SQL)
        return cursor.fetchall()


@contextmanager
def _standing_table(quarters: list[Quarter], scope: _Scope) -> Iterator[None]:
    """Every customer's tier at each quarter's first day, computed once into a temporary table
    that the figures' queries read (and that PostgreSQL analyses, so it plans their joins on
    real row counts); dropped at the end, also inside a longer transaction."""
    quarters_sql, params = _quarters_cte(quarters)
    standing_sql, standing_params = _standing_cte(scope)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STANDING_TABLE} AS WITH {quarters_sql}, {standing_sql} "  # noqa: S608 (fixed SQL)
            "SELECT q, customer_id, tier_id FROM standing",
            [*params, *standing_params],
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {STANDING_TABLE}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {STANDING_TABLE}")


def _repurchase(quarters, scope, cells) -> None:
    visible, params = scope.join("o.customer_id")
    rows = _run(
        quarters,
        scope,
        "SELECT o.q, s.tier_id, COUNT(*), SUM(CASE WHEN o.n >= 2 THEN 1 ELSE 0 END) FROM "  # noqa: S608 (fixed SQL)
        "(SELECT qs.q, o.customer_id, COUNT(*) AS n FROM quarters qs JOIN crm_order o "
        f"ON o.ordered_at >= qs.start_on AND o.ordered_at < qs.stop_on{visible} GROUP BY qs.q, o.customer_id) o "
        "LEFT JOIN standing s ON s.q = o.q AND s.customer_id = o.customer_id GROUP BY o.q, s.tier_id",
        params,
    )
    for quarter, tier_id, buyers, repeat in rows:
        cells[("repurchase_rate", quarter, tier_id)] = Cell(_share(repeat, buyers), int(buyers), int(repeat))


def _dormant_activation(quarters, scope, cells, *, lowest_tier_id: int | None) -> None:
    if lowest_tier_id is None:
        return
    rows = _run(
        quarters,
        scope,
        "SELECT s.q, s.tier_id, COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM crm_order o "
        "WHERE o.customer_id = s.customer_id AND o.ordered_at >= qs.start_on AND o.ordered_at < qs.stop_on) "
        "THEN 1 ELSE 0 END) FROM standing s JOIN quarters qs ON qs.q = s.q WHERE s.tier_id = %s "
        "GROUP BY s.q, s.tier_id",
        [lowest_tier_id],
    )
    for quarter, tier_id, dormant, active in rows:
        cells[("dormant_activation_rate", quarter, tier_id)] = Cell(_share(active, dormant), int(dormant), int(active))


def _retention(quarters, scope, cells) -> None:
    """Each year's buyers once (with their first order of that year), not an order probe per
    customer and quarter: quarters of the same year share them."""
    visible, params = scope.join("o.customer_id")
    years_sql, years_params = _years_cte(quarters)
    yearly = (
        f"{years_sql}, yearly AS (SELECT ys.y_start AS y, o.customer_id, MIN(o.ordered_at) AS first_on "  # noqa: S608 (fixed SQL)
        f"FROM years ys JOIN crm_order o ON o.ordered_at >= ys.y_start AND o.ordered_at < ys.y_stop{visible} "
        "GROUP BY ys.y_start, o.customer_id)"
    )
    rows = _run(
        quarters,
        scope,
        "SELECT qs.q, s.tier_id, COUNT(*), SUM(CASE WHEN ty.first_on < qs.stop_on THEN 1 ELSE 0 END) "
        "FROM quarters qs JOIN yearly ly ON ly.y = qs.last_year_start "
        "LEFT JOIN yearly ty ON ty.y = qs.year_start AND ty.customer_id = ly.customer_id "
        "LEFT JOIN standing s ON s.q = qs.q AND s.customer_id = ly.customer_id GROUP BY qs.q, s.tier_id",
        [],
        extra=(yearly, [*years_params, *params]),
    )
    for quarter, tier_id, ordered_last_year, kept in rows:
        cells[("retention_rate", quarter, tier_id)] = Cell(
            _share(kept, ordered_last_year), int(ordered_last_year), int(kept)
        )


def _conversion(quarters, scope, cells) -> None:
    """From each customer's first order (one pass over the orders), not a probe per quarter."""
    visible_orders, order_params = scope.join("o.customer_id")
    visible, params = scope.join("c.id")
    firsts = (
        "firsts AS (SELECT o.customer_id, MIN(o.ordered_at) AS first_on "  # noqa: S608 (fixed SQL)
        f"FROM crm_order o{visible_orders} GROUP BY o.customer_id)"
    )
    rows = _run(
        quarters,
        scope,
        "SELECT qs.q, s.tier_id, COUNT(*), "  # noqa: S608 (fixed SQL; values are parameters)
        "SUM(CASE WHEN f.first_on >= qs.start_on AND f.first_on < qs.stop_on THEN 1 ELSE 0 END) "
        f"FROM quarters qs JOIN crm_customer c ON c.created_at < qs.stop_at{visible} "
        "LEFT JOIN firsts f ON f.customer_id = c.id "
        "LEFT JOIN standing s ON s.q = qs.q AND s.customer_id = c.id "
        "WHERE f.first_on IS NULL OR f.first_on >= qs.start_on GROUP BY qs.q, s.tier_id",
        params,
        extra=(firsts, order_params),
    )
    for quarter, tier_id, prospects, converted in rows:
        cells[("prospect_conversion_rate", quarter, tier_id)] = Cell(
            _share(converted, prospects), int(prospects), int(converted)
        )


def _order_value(quarters, scope, cells) -> None:
    """Orders of the quarter and of the same quarter a year earlier, summed straight by tier."""
    visible_now, now_params = scope.join("o.customer_id")
    visible_before, before_params = scope.join("o.customer_id")
    rows = _run(
        quarters,
        scope,
        "SELECT o.q, s.tier_id, SUM(o.amount * o.now), SUM(o.now), SUM(o.amount * (1 - o.now)), SUM(1 - o.now) "  # noqa: S608 (fixed SQL)
        "FROM (SELECT qs.q, o.customer_id, o.amount, 1 AS now FROM quarters qs JOIN crm_order o "
        f"ON o.ordered_at >= qs.start_on AND o.ordered_at < qs.stop_on{visible_now} "
        "UNION ALL SELECT qs.q, o.customer_id, o.amount, 0 FROM quarters qs JOIN crm_order o "
        f"ON o.ordered_at >= qs.ly_start AND o.ordered_at < qs.ly_stop{visible_before}) o "
        "LEFT JOIN standing s ON s.q = o.q AND s.customer_id = o.customer_id GROUP BY o.q, s.tier_id",
        [*now_params, *before_params],
    )
    for quarter, tier_id, amount, orders, amount_before, orders_before in rows:
        orders, orders_before = int(orders or 0), int(orders_before or 0)
        value = round(float(amount) / orders, 2) if orders else None
        before = round(float(amount_before) / orders_before, 2) if orders_before else None
        if orders:
            cells[("average_order_value", quarter, tier_id)] = Cell(value, int(orders), None, before)
            change = round(100.0 * (value / before - 1), 1) if before else None
            cells[("average_order_value_change", quarter, tier_id)] = Cell(change, int(orders), None, before)


def _cases(quarters, scope, cells, *, now: datetime.datetime, targets: dict[int | None, int]) -> None:
    """SLA compliance and the median first response, per tier at opening: one query on
    PostgreSQL; elsewhere the same query plus one that lists the grouped response times."""
    label = Choose(
        *[
            When(opened_at__gte=_local_midnight(q.start), opened_at__lt=_local_midnight(q.stop), then=Value(q.label))
            for q in quarters
        ],
        default=Value(""),
    )
    cases = (
        scope.rows(Case.objects.all())
        .filter(
            Q(
                *[Q(opened_at__gte=_local_midnight(q.start), opened_at__lt=_local_midnight(q.stop)) for q in quarters],
                _connector=Q.OR,
            )
        )
        .annotate(quarter=label)
        .order_by()
        .values("quarter", "tier_id")
    )
    answered_in_time = Q(first_response_at__isnull=False, first_response_at__lte=F("first_response_due_at"))
    measured = Q(first_response_at__isnull=False) | Q(first_response_due_at__lte=now)
    aggregates = {
        "measured": Count("pk", filter=measured),
        "met": Count("pk", filter=answered_in_time),
        "answered": Count("pk", filter=Q(first_response_seconds__isnull=False)),
    }
    in_database = connection.vendor == "postgresql"
    if in_database:
        aggregates["median"] = _Median("first_response_seconds")
    rows = list(cases.annotate(**aggregates))
    if not in_database:
        times: dict[tuple[str, int | None], list[int]] = {}
        for quarter, tier_id, seconds in cases.filter(first_response_seconds__isnull=False).values_list(
            "quarter", "tier_id", "first_response_seconds"
        ):
            times.setdefault((quarter, tier_id), []).append(seconds)
        for row in rows:
            values = times.get((row["quarter"], row["tier_id"]))
            row["median"] = statistics.median(values) if values else None
    for row in rows:
        key = (row["quarter"], row["tier_id"])
        if row["measured"]:
            cells[("sla_compliance", *key)] = Cell(_share(row["met"], row["measured"]), row["measured"], row["met"])
        if row["answered"]:
            median = row["median"]
            cells[("median_first_response", *key)] = Cell(
                None if median is None else round(float(median) / 60, 1),
                row["answered"],
                None,
                targets.get(row["tier_id"]),
            )


def _contact_plans(quarters, scope, cells, *, today: datetime.date) -> None:
    current = Quarter.containing(today)
    if current not in quarters:
        return
    rows = (
        scope.rows(ContactStatus.objects.all())
        .order_by()
        .values("tier_id")
        .annotate(n=Count("pk"), met=Count("pk", filter=Q(due_on__isnull=True) | Q(due_on__gte=today)))
    )
    for row in rows:
        cells[("contact_plan_compliance", current.label, row["tier_id"])] = Cell(
            _share(row["met"], row["n"]), row["n"], row["met"]
        )


def _playbook_tasks(quarters, scope, cells, *, now: datetime.datetime) -> None:
    visible, params = scope.join("t.customer_id")
    ops = connection.ops
    rows = _run(
        quarters,
        scope,
        "SELECT qs.q, s.tier_id, COUNT(*), "  # noqa: S608 (fixed SQL; values are parameters)
        "SUM(CASE WHEN t.status = %s AND t.completed_at <= t.due_at THEN 1 ELSE 0 END) "
        f"FROM quarters qs JOIN service_task t ON t.due_at >= qs.start_at AND t.due_at < qs.stop_at{visible} "
        "LEFT JOIN standing s ON s.q = qs.q AND s.customer_id = t.customer_id "
        "WHERE t.source = %s AND t.status <> %s AND (t.status = %s OR t.due_at <= %s) "
        "GROUP BY qs.q, s.tier_id",
        [
            Task.Status.DONE,
            *params,
            Task.Source.PLAYBOOK,
            Task.Status.CANCELLED,
            Task.Status.DONE,
            ops.adapt_datetimefield_value(now),
        ],
    )
    for quarter, tier_id, due, on_time in rows:
        cells[("playbook_tasks_on_time", quarter, tier_id)] = Cell(_share(on_time, due), int(due), int(on_time))


# --- entry points --------------------------------------------------------------------------------


def _scope(user) -> _Scope | None:
    """The customers `user` sees, as a scope: every customer, or their own (core.access's rule)."""
    if not (user and user.is_authenticated):
        return None
    return _Scope(None if user_sees_all_customers(user) else user.pk)


def _cells(scope: _Scope | None, quarters: list[Quarter], *, now: datetime.datetime, tiers: list[Tier]) -> dict:
    if scope is None or not quarters:
        return {}
    today = timezone.localdate(now, timezone=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    targets: dict[int | None, int] = {t.pk: t.first_response_minutes for t in tiers}
    # Customers without a tier: their service level's own time (24 hours without one, as case_open does).
    targets[None] = ServiceLevel.objects.filter(tier__isnull=True).values_list("response_minutes", flat=True).first()
    targets[None] = targets[None] or 24 * 60
    cells: dict = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The order figures hash and sort hundreds of thousands of rows: in memory, for this
            # transaction only (PostgreSQL's default of 4 MB sends them to disk).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [WORK_MEM])
        with _standing_table(quarters, scope):
            _repurchase(quarters, scope, cells)
            _dormant_activation(quarters, scope, cells, lowest_tier_id=tiers[-1].pk if tiers else None)
            _retention(quarters, scope, cells)
            _conversion(quarters, scope, cells)
            _order_value(quarters, scope, cells)
            _playbook_tasks(quarters, scope, cells, now=now)
        _cases(quarters, scope, cells, now=now, targets=targets)
        _contact_plans(quarters, scope, cells, today=today)
    return cells


def _assemble(quarters: list[Quarter], cells: dict, computed_at: datetime.datetime, tiers: list[Tier]) -> Results:
    columns = [TierColumn(t.pk, t.code, t.name, t.rank) for t in tiers]
    if any(tier_id is None for _figure, _quarter, tier_id in cells):
        columns.append(TierColumn(None, NO_TIER, str(_("Without a tier")), None))
    return Results(quarters=quarters, tiers=columns, cells=cells, computed_at=computed_at)


def _cache_key(scope: _Scope | None, quarters: list[Quarter]) -> str:
    who = "none" if scope is None else ("all" if scope.manager_id is None else f"m{scope.manager_id}")
    return f"commitments:results:{CACHE_VERSION}:{who}:{','.join(q.label for q in quarters)}"


def results_for(user, quarters: list[Quarter], *, now: datetime.datetime | None = None) -> Results:
    """Every figure for these quarters over the customers `user` sees, computed now."""
    now = now or timezone.now()
    tiers = list(Tier.objects.order_by("rank"))
    return _assemble(quarters, _cells(_scope(user), quarters, now=now, tiers=tiers), now, tiers)


def results_cached(user, quarters: list[Quarter]) -> Results:
    """results_for, kept CACHE_SECONDS per visibility (everyone's, or one manager's) and quarters:
    the page, the export and the API share it. The numbers are cached; texts are rendered per request."""
    scope = _scope(user)
    key = _cache_key(scope, quarters)
    tiers = list(Tier.objects.order_by("rank"))
    stored = cache.get(key)
    if stored is None:
        now = timezone.now()
        stored = {"cells": _cells(scope, quarters, now=now, tiers=tiers), "computed_at": now}
        cache.set(key, stored, CACHE_SECONDS)
    return _assemble(quarters, stored["cells"], stored["computed_at"], tiers)


def results_refresh(*, today: datetime.date | None = None) -> int:
    """Compute the company-wide figures of the default quarters into the cache ahead of the
    people who read them (the beat task results_refresh, every five minutes): over every customer
    they take seconds at 100,000 customers, so nobody should wait for them on a page. Returns the
    figures' values computed."""
    now = timezone.now()
    quarters = quarters_default(today or timezone.localdate(now, timezone=zoneinfo.ZoneInfo(settings.TIME_ZONE)))
    scope = _Scope(None)
    cells = _cells(scope, quarters, now=now, tiers=list(Tier.objects.order_by("rank")))
    cache.set(_cache_key(scope, quarters), {"cells": cells, "computed_at": now}, CACHE_SECONDS)
    return len(cells)
