"""The data a backtest reads: who was a customer at a past date, their metrics as of that date
(the same metric code as tier runs, with the date passed in: nothing after it is read), and what
each did in the 12 months after it.

Set-based: the metric tables are streamed in id-range chunks as plain arrays (two reads per
window, whatever the number of customers); customer fields edited since the date are taken back
to their value on that date from the record history, in one query.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Max, Min
from django.utils.translation import gettext as _

from crm.models import Customer, Industry, Order
from scoring.backtest import Outcomes
from scoring.metrics import WINDOW_DAYS, MetricTable, strategic_potential, tenure_years
from scoring.selectors import DEFAULT_CHUNK_SIZE, metric_tables_concat, metric_tables_stream

OUTCOME_DAYS = WINDOW_DAYS  # "the 12 months after T", counted as the metric windows count them
LAST_MONTH_DAYS = 31  # the data after T must reach into the last month of the period
RETENTION_DAYS_DEFAULT = 90  # "still ordering": an order in the last 90 days of the period (the method's "lost")


def outcome_end(as_of: datetime.date) -> datetime.date:
    return as_of + datetime.timedelta(days=OUTCOME_DAYS)


def latest_complete_month_end(today: datetime.date) -> datetime.date:
    return today.replace(day=1) - datetime.timedelta(days=1)


def default_as_of(today: datetime.date) -> datetime.date:
    """One year before the end of the latest complete month, so the 12 months after it are all in."""
    return latest_complete_month_end(today) - datetime.timedelta(days=OUTCOME_DAYS)


@dataclass(frozen=True)
class OrderSpan:
    first: datetime.date | None
    last: datetime.date | None


def order_span() -> OrderSpan:
    span = Order.objects.aggregate(first=Min("ordered_at"), last=Max("ordered_at"))
    return OrderSpan(span["first"], span["last"])


def as_of_problems(as_of: datetime.date, *, today: datetime.date, span: OrderSpan) -> list[str]:
    """Why a date cannot be backtested, in plain words; empty when it can."""
    end = outcome_end(as_of)
    if span.first is None or span.first > as_of:
        return [_("There are no orders on or before %(date)s, so there is nothing to score.") % {"date": as_of}]
    if end > today:
        return [
            _(
                "A backtest needs 12 months of data after the date: the 12 months after %(date)s end on "
                "%(end)s, after today (%(today)s). Choose %(latest)s or earlier."
            )
            % {"date": as_of, "end": end, "today": today, "latest": today - datetime.timedelta(days=OUTCOME_DAYS)}
        ]
    if span.last is None or span.last < end - datetime.timedelta(days=LAST_MONTH_DAYS):
        return [
            _(
                "A backtest needs 12 months of data after the date, but the latest order is dated %(last)s, "
                "more than a month before %(end)s, the end of the 12 months after %(date)s."
            )
            % {"date": as_of, "end": end, "last": span.last}
        ]
    return []


# --- who was a customer, and their metrics, as of a date ---------------------------------------


def _day_end(as_of: datetime.date) -> datetime.datetime:
    """The first moment after `as_of` in the business time zone."""
    return datetime.datetime.combine(
        as_of + datetime.timedelta(days=1), datetime.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )


def _fields_as_of(table: MetricTable) -> tuple[int, np.ndarray]:
    """Put back, in place, the scoring inputs of customers whose record was edited after the
    table's date (type, industry, potential rating, cooperation date) to their value on that
    date, from the record history; returns how many customers that touched and, per customer,
    whether the history says it was terminated on that date."""
    terminated = np.zeros(len(table), dtype=bool)
    if not len(table):
        return 0, terminated
    cutoff = _day_end(table.as_of)
    records = Customer.history.model.objects
    edited_later = records.filter(history_date__gte=cutoff).values("id")
    rows = (
        records.filter(id__in=edited_later, history_date__lt=cutoff)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "customer_type", "industry_id", "potential_rating", "cooperation_since", "status")
    )
    last: dict[int, tuple] = {}
    for row in rows.iterator(chunk_size=2000):
        last[row[0]] = row  # the latest record on or before the date wins
    if not last:
        return 0, terminated
    ids = np.fromiter(last, dtype=np.int64, count=len(last))
    positions = np.searchsorted(table.customer_ids, ids)
    positions = np.minimum(positions, len(table) - 1)
    found = table.customer_ids[positions] == ids
    strategic_industries = set(Industry.objects.filter(strategic=True).values_list("id", flat=True))
    touched = 0
    rating = np.full(len(table), np.nan)
    changed = np.zeros(len(table), dtype=bool)
    for customer_id, position, inside in zip(ids.tolist(), positions.tolist(), found.tolist(), strict=True):
        if not inside:
            continue
        _id, customer_type, industry_id, potential, since, status = last[customer_id]
        table.customer_type[position] = customer_type
        table.industry_id[position] = industry_id
        table.cooperation_since[position] = since.toordinal() if since else -1
        rating[position] = np.nan if potential is None else potential
        terminated[position] = status == Customer.Status.TERMINATED
        changed[position] = True
        touched += 1
    strategic = np.isin(table.industry_id, list(strategic_industries))
    table.metrics["strategic_potential"] = np.where(
        changed, strategic_potential(strategic, rating), table.metrics["strategic_potential"]
    )
    table.metrics["tenure_years"] = tenure_years(table.as_of, table.cooperation_since)
    return touched, terminated


def _subset(table: MetricTable, mask: np.ndarray) -> MetricTable:
    """The rows of `table` where `mask` holds (every array field, in order)."""
    fields = {
        name: value[mask] for name, value in vars(table).items() if isinstance(value, np.ndarray) and name != "metrics"
    }
    return MetricTable(as_of=table.as_of, metrics={k: v[mask] for k, v in table.metrics.items()}, **fields)


@dataclass
class Population:
    """Customers at a date with their metrics as of it."""

    table: MetricTable
    fields_from_history: int  # customers whose scoring inputs were taken back to the date
    left_out: int  # records that were not yet customers on the date (or had ended)


def metrics_at(as_of: datetime.date, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> MetricTable:
    """Every customer's metrics as of a date (12 months up to it), read in id-range chunks."""
    return metric_tables_concat(list(metric_tables_stream(Customer.objects.all(), as_of, chunk_size=chunk_size)), as_of)


def population_from(table: MetricTable) -> Population:
    """Everyone in `table` (every customer's metrics as of its date) who was a customer on that
    date: cooperating by then, or ordering in the 12 months up to it, and not terminated by then
    as far as the history tells, whatever their status today (leaving out customers who have
    since gone would flatter the rules). The table itself is left as it is."""
    copy = _subset(table, np.ones(len(table), dtype=bool))
    touched, terminated = _fields_as_of(copy)
    ordinal = table.as_of.toordinal()
    cooperating = (copy.cooperation_since >= 0) & (copy.cooperation_since <= ordinal)
    keep = (cooperating | (copy.last_order >= 0)) & ~terminated
    return Population(table=_subset(copy, keep), fields_from_history=touched, left_out=int((~keep).sum()))


def population_at(as_of: datetime.date, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Population:
    return population_from(metrics_at(as_of, chunk_size=chunk_size))


def outcomes_from(later: MetricTable, customer_ids: np.ndarray, *, retention_days: int) -> Outcomes:
    """What each customer did in the 12 months up to `later`'s date (its metric window is exactly
    that period), aligned with `customer_ids`: spend, orders, complaints, and whether they were
    still ordering (an order in the last `retention_days` days)."""
    size = len(customer_ids)
    positions = np.minimum(np.searchsorted(later.customer_ids, customer_ids), max(len(later) - 1, 0))
    found = later.customer_ids[positions] == customer_ids if len(later) else np.zeros(size, dtype=bool)

    def column(values: np.ndarray, fill: float) -> np.ndarray:
        result = np.full(size, fill, dtype=float)
        result[found] = values[positions[found]]
        return result

    recency = column(later.metrics["recency_days"], np.nan)
    return Outcomes(
        spend=column(later.metrics["spend_12m"], 0.0),
        orders=column(later.metrics["orders_12m"], 0.0),
        retained=np.nan_to_num(recency, nan=np.inf) < retention_days,
        complaints=column(later.metrics["complaints_12m"], 0.0),
    )


def customer_codes(ids) -> dict[int, str]:
    """Codes of the given customers, in batches (a list can hold thousands)."""
    ids = [int(value) for value in ids]
    codes: dict[int, str] = {}
    for start in range(0, len(ids), 5000):
        codes.update(Customer.objects.filter(id__in=ids[start : start + 5000]).values_list("id", "code"))
    return codes
