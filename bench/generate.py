"""Generate a benchmark data set straight into the database.

Customers with industries and account managers, ~30 orders per customer over 36 months with a
long-tail spend distribution, satisfaction surveys, ~10 activities per customer (1M at 100,000
customers) and some follow-up tasks (~0.6 per customer). On PostgreSQL every table
is filled with COPY in chunks (bounded memory, ~1M order rows per second); on SQLite the same
rows go through executemany so the generator also works on the embedded default.

    DEBUG=1 .venv/bin/python -m bench.generate --customers 100000
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

CHUNK_CUSTOMERS = 20_000
MANAGER_EVERY = 500  # one account manager per this many customers
MANAGER_PASSWORD = "bench12345"  # noqa: S105 - throw-away benchmark database only
INTERACTION_KINDS = ["visit", "call", "email", "meeting", "inquiry", "complaint", "referral", "social_share"]
INTERACTION_WEIGHTS = [0.22, 0.3, 0.2, 0.08, 0.08, 0.04, 0.03, 0.05]
PROSPECT_CLOSE_DAYS = {"A": 30, "B": 90, "C": 180, "D": None, "E": None}
ACTIVITIES_PER_CUSTOMER = 10.0  # over the 24 months: 1M activities at 100,000 customers
# Activities logged with a time, a duration and an outcome (the workbench's); the rest are pushed dates.
TIMED_KINDS = {"visit": (30, 120), "call": (5, 30), "meeting": (30, 90)}
OUTCOMES = ["", "", "Order expected", "Quote requested", "No need now", "Follow-up agreed"]
TASKS_PER_CUSTOMER = 0.6
TASK_STATUSES, TASK_STATUS_WEIGHTS = ["open", "done", "cancelled"], [0.7, 0.25, 0.05]
TASK_SOURCES, TASK_SOURCE_WEIGHTS = ["manual", "notice", "warning", "letter"], [0.7, 0.15, 0.1, 0.05]
TASK_KINDS, TASK_KIND_WEIGHTS = ["call", "visit", ""], [0.5, 0.2, 0.3]
REGIONS = ["华东", "华北", "华南", "西南", "西北", "东北", "华中"]
COMPANY_SIZES = ["micro", "small", "medium", "large", "individual"]
SURVEY_CHANNELS = ["email", "phone", "visit", "wechat"]


@dataclass
class Counts:
    managers: int = 0
    customers: int = 0
    orders: int = 0
    surveys: int = 0
    interactions: int = 0
    tasks: int = 0


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


class _Writer:
    """Bulk row writer: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, connection):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"

    def write(self, table: str, columns: list[str], data: list) -> None:
        """`data` is one sequence per column (NumPy arrays or lists), all the same length.
        None stands for NULL."""
        if not len(data[0]):
            return
        with self.connection.cursor() as cursor:
            if self.postgres:
                buffer = io.StringIO()
                texts = [_column_text(column) for column in data]
                buffer.write("\n".join("\t".join(row) for row in zip(*texts, strict=True)))
                buffer.write("\n")
                buffer.seek(0)
                sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                cursor.cursor.copy_expert(sql, buffer)
            else:
                rows = list(zip(*[_column_python(column) for column in data], strict=True))
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _column_text(column) -> list[str]:
    """COPY text format: \\N is NULL; our generated text never holds tabs, newlines or backslashes."""
    if isinstance(column, np.ndarray):
        if column.dtype.kind == "f":
            return [f"{v:.2f}" for v in column.tolist()]
        if column.dtype.kind == "b":
            return ["t" if v else "f" for v in column.tolist()]
        return column.astype(str).tolist()
    return ["\\N" if v is None else str(v) for v in column]


def _column_python(column) -> list:
    if isinstance(column, np.ndarray):
        if column.dtype.kind == "f":
            return [round(v, 2) for v in column.tolist()]
        return column.tolist()
    return list(column)


def _dates(ordinals: np.ndarray) -> np.ndarray:
    """ISO date strings for an array of proleptic ordinals, vectorised through datetime64."""
    epoch = datetime.date(1970, 1, 1).toordinal()
    return (ordinals - epoch).astype("datetime64[D]").astype(str)


def _utc_offset_hours(day: datetime.date) -> int:
    """Whole hours the business time zone (settings.TIME_ZONE) is ahead of UTC on `day`."""
    import zoneinfo

    from django.conf import settings

    moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return int(moment.utcoffset().total_seconds() // 3600)


def _next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - fixed table names
    return int(cursor.fetchone()[0])


def _sequences_sync(connection, tables: list[str]) -> None:
    """After COPY with explicit ids, move each id sequence past the largest id."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"GREATEST((SELECT MAX(id) FROM {table}), 1))"
            )


def generate(*, customers: int, as_of: datetime.date, seed: int = 42, verbose: bool = True) -> Counts:
    """Add `customers` customers (and their history up to `as_of`) to the configured database."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from crm.models import CustomerCodeSequence, Industry  # project code loads once main() has set Django up

    rng = np.random.default_rng(seed)
    writer = _Writer(connection)
    counts = Counts()
    # Timestamps as Django stores them (a space between date and time: SQLite's date functions
    # read no other form), in UTC.
    now = datetime.datetime.now(datetime.UTC).isoformat(sep=" ")
    industries = list(Industry.objects.order_by("id").values_list("id", "code"))
    if not industries:
        raise SystemExit("no industries: run `manage.py migrate` first")
    industry_ids = np.array([i for i, _ in industries], dtype=np.int64)
    industry_codes = [c for _, c in industries]
    started = time.perf_counter()

    with transaction.atomic(), connection.cursor() as cursor:
        # Account managers.
        managers = max(1, customers // MANAGER_EVERY)
        first_user = _next_id(cursor, "auth_user")
        user_ids = np.arange(first_user, first_user + managers, dtype=np.int64)
        password = make_password(MANAGER_PASSWORD)
        writer.write(
            "auth_user",
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            [
                user_ids,
                [password] * managers,
                [None] * managers,
                ["f"] * managers if writer.postgres else [False] * managers,
                [f"bench_manager_{u}" for u in user_ids.tolist()],
                [""] * managers,
                [""] * managers,
                [f"bench_manager_{u}@example.com" for u in user_ids.tolist()],
                ["f"] * managers if writer.postgres else [False] * managers,
                ["t"] * managers if writer.postgres else [True] * managers,
                [now] * managers,
            ],
        )
        group = Group.objects.filter(name="Account managers").first()
        if group is not None:
            first_link = _next_id(cursor, "auth_user_groups")
            writer.write(
                "auth_user_groups",
                ["id", "user_id", "group_id"],
                [
                    np.arange(first_link, first_link + managers, dtype=np.int64),
                    user_ids,
                    np.full(managers, group.pk, dtype=np.int64),
                ],
            )
        counts.managers = managers

        # Customer codes continue each (industry, year) sequence, so later creations never collide.
        sequences = {(s.industry_id, s.year): s.last_value for s in CustomerCodeSequence.objects.all()}
        first_customer = _next_id(cursor, "crm_customer")
        first_order = _next_id(cursor, "crm_order")
        first_survey = _next_id(cursor, "crm_satisfactionsurvey")
        first_interaction = _next_id(cursor, "crm_interaction")
        first_task = _next_id(cursor, "service_task")
        # Activities are logged in business hours of the business time zone (its offset at the as-of date).
        utc_offset_hours = _utc_offset_hours(as_of)
        as_of_ordinal = as_of.toordinal()
        history_days = 730  # surveys and interactions
        # Orders go back three years at the same yearly rate, so a backtest a year back reads a full
        # year before and after its date, and a weight suggestion a fit window a year earlier still.
        order_history_days = 1095

        for chunk_start in range(0, customers, CHUNK_CUSTOMERS):
            size = min(CHUNK_CUSTOMERS, customers - chunk_start)
            ids = np.arange(first_customer + chunk_start, first_customer + chunk_start + size, dtype=np.int64)
            industry_index = rng.integers(0, len(industry_ids), size)
            # Tenure: 0-12 years; 5% prospects with no cooperation date yet.
            since = as_of_ordinal - (rng.exponential(6.0, size) * 365).astype(np.int64).clip(30, 12 * 365)
            prospect = rng.random(size) < 0.05
            since_years = np.array([datetime.date.fromordinal(int(o)).year for o in since], dtype=np.int64)
            codes = []
            for index in range(size):
                key = (int(industry_ids[industry_index[index]]), int(since_years[index]))
                sequences[key] = sequences.get(key, 0) + 1
                codes.append(f"{industry_codes[industry_index[index]]}{key[1]}{sequences[key]:03d}")
            # Records were created over the years, as in a live database (not one shared timestamp).
            created_days = np.minimum(as_of_ordinal - since, 10 * 365) * rng.random(size)
            created = (
                (np.datetime64(as_of.isoformat(), "s") - (created_days * 86400).astype("timedelta64[s]"))
                .astype(str)
                .tolist()
            )
            created = [f"{value.replace('T', ' ')}+00:00" for value in created]
            b2c = rng.random(size) < 0.3
            potential = rng.integers(3, 11, size)
            potential_null = rng.random(size) < 0.1
            manager_ids = user_ids[(ids - first_customer) % managers]
            # Prospects carry the handbooks' pipeline grade (A: a deal within a month ... E: no need).
            grades = np.array(list(PROSPECT_CLOSE_DAYS))[rng.integers(0, len(PROSPECT_CLOSE_DAYS), size)]
            expected_close = [
                None if PROSPECT_CLOSE_DAYS[g] is None else (as_of + datetime.timedelta(days=PROSPECT_CLOSE_DAYS[g]))
                for g in grades.tolist()
            ]
            writer.write(
                "crm_customer",
                [
                    "id",
                    "code",
                    "name",
                    "industry_id",
                    "customer_type",
                    "region",
                    "company_size",
                    "account_manager_id",
                    "cooperation_since",
                    "status",
                    "potential_rating",
                    "language",
                    "contact_person",
                    "contact_phone",
                    "contact_email",
                    "tax_id",
                    "bank_account",
                    "tier_id",
                    "computed_tier_id",
                    "score",
                    "tiered_at",
                    "lifecycle",
                    "prospect_grade",
                    "expected_close_on",
                    "flags",
                    "spend_12m",
                    "last_order_at",
                    "runs_below_threshold",
                    "created_at",
                    "updated_at",
                ],
                [
                    ids,
                    codes,
                    [f"Bench customer {i}" for i in ids.tolist()],
                    industry_ids[industry_index],
                    np.where(b2c, "b2c", "b2b"),
                    np.array(REGIONS)[rng.integers(0, len(REGIONS), size)],
                    np.where(b2c, "individual", np.array(COMPANY_SIZES[:4])[rng.integers(0, 4, size)]),
                    manager_ids,
                    [None if p else d for p, d in zip(prospect.tolist(), _dates(since).tolist(), strict=True)],
                    np.where(rng.random(size) < 0.02, "terminated", "active"),
                    [None if n else int(v) for n, v in zip(potential_null.tolist(), potential.tolist(), strict=True)],
                    np.where(rng.random(size) < 0.1, "en", "zh-hans"),
                    [f"Contact {i}" for i in ids.tolist()],
                    [f"138{i:08d}" for i in ids.tolist()],
                    [f"c{i}@example.com" for i in ids.tolist()],
                    [""] * size,
                    [""] * size,
                    [None] * size,
                    [None] * size,
                    [None] * size,
                    [None] * size,
                    [""] * size,
                    np.where(prospect, grades, ""),
                    [close if p else None for p, close in zip(prospect.tolist(), expected_close, strict=True)],
                    ["[]"] * size,
                    ["0"] * size,
                    [None] * size,
                    ["0"] * size,
                    created,
                    created,
                ],
            )
            counts.customers += size

            # Orders: per-customer rate from a gamma (mean 30 over 36 months) and a log-normal
            # customer size that gives the long tail of spend (a few customers buy far more).
            # Bigger customers also order more often.
            customer_size = np.exp(rng.normal(0.0, 1.2, size))
            rate = rng.gamma(2.0, 1 / 2.0, size) * customer_size**0.5
            rate *= 10 * order_history_days / 365 / rate.mean()
            rate[prospect] = 0
            order_counts = rng.poisson(rate)
            total = int(order_counts.sum())
            owner = np.repeat(ids, order_counts)
            amount = np.round(
                np.exp(rng.normal(np.log(4000.0), 0.8, total)) * np.repeat(customer_size, order_counts), 2
            ).clip(0.01, 9e9)
            # Orders only after the customer started, within the 36-month history.
            earliest = np.maximum(np.repeat(since, order_counts), as_of_ordinal - order_history_days)
            span = np.maximum(as_of_ordinal - earliest, 1)
            ordered = as_of_ordinal - (rng.random(total) * span).astype(np.int64)
            order_ids = np.arange(first_order + counts.orders, first_order + counts.orders + total, dtype=np.int64)
            writer.write(
                "crm_order",
                ["id", "customer_id", "amount", "ordered_at", "source", "external_ref", "created_at"],
                [
                    order_ids,
                    owner,
                    amount,
                    _dates(ordered),
                    np.full(total, "erp"),
                    np.char.add("SO", order_ids.astype(str)),
                    [now] * total,
                ],
            )
            counts.orders += total

            # Surveys: ~3 per customer over 24 months, scores leaning to 4.
            survey_counts = rng.poisson(3.0, size)
            survey_counts[prospect] = 0
            total = int(survey_counts.sum())
            score = np.round(np.clip(rng.normal(4.2, 0.6, total), 1, 5), 2)
            survey_ids = np.arange(first_survey + counts.surveys, first_survey + counts.surveys + total, dtype=np.int64)
            writer.write(
                "crm_satisfactionsurvey",
                ["id", "customer_id", "score", "surveyed_at", "channel", "created_at"],
                [
                    survey_ids,
                    np.repeat(ids, survey_counts),
                    score,
                    _dates(as_of_ordinal - rng.integers(0, history_days, total)),
                    np.array(SURVEY_CHANNELS)[rng.integers(0, len(SURVEY_CHANNELS), total)],
                    [now] * total,
                ],
            )
            counts.surveys += total

            # Activities: ~10 per customer; complaints, referrals and shares are rare. Visits, calls and
            # meetings carry a time of day, a duration and often an outcome, as the workbench logs them.
            interaction_counts = rng.poisson(ACTIVITIES_PER_CUSTOMER, size)
            total = int(interaction_counts.sum())
            interaction_ids = np.arange(
                first_interaction + counts.interactions,
                first_interaction + counts.interactions + total,
                dtype=np.int64,
            )
            kinds = np.array(INTERACTION_KINDS)[rng.choice(len(INTERACTION_KINDS), total, p=INTERACTION_WEIGHTS)]
            occurred = as_of_ordinal - rng.integers(0, history_days, total)
            minutes_of_day = rng.integers(9 * 60, 18 * 60, total) - utc_offset_hours * 60  # local 09:00-18:00, in UTC
            happened = (
                np.datetime64("1970-01-01T00:00", "m")
                + ((occurred - datetime.date(1970, 1, 1).toordinal()) * 1440 + minutes_of_day).astype("timedelta64[m]")
            ).astype(str)
            timed = np.isin(kinds, list(TIMED_KINDS))
            duration = np.zeros(total, dtype=np.int64)
            for kind, (shortest, longest) in TIMED_KINDS.items():
                mask = kinds == kind
                duration[mask] = rng.integers(shortest, longest + 1, int(mask.sum()))
            outcome = np.array(OUTCOMES)[rng.integers(0, len(OUTCOMES), total)]
            timed_list = timed.tolist()
            writer.write(
                "crm_interaction",
                [
                    "id",
                    "customer_id",
                    "kind",
                    "occurred_at",
                    "happened_at",
                    "duration_minutes",
                    "outcome",
                    "note",
                    "recorded_by_id",
                    "created_at",
                ],
                [
                    interaction_ids,
                    np.repeat(ids, interaction_counts),
                    kinds,
                    _dates(occurred),
                    [
                        f"{h.replace('T', ' ')}:00+00:00" if t else None
                        for h, t in zip(happened.tolist(), timed_list, strict=True)
                    ],
                    [int(d) if t else None for d, t in zip(duration.tolist(), timed_list, strict=True)],
                    np.where(timed, outcome, ""),
                    [""] * total,
                    [
                        int(m) if t else None
                        for m, t in zip(np.repeat(manager_ids, interaction_counts).tolist(), timed_list, strict=True)
                    ],
                    [now] * total,
                ],
            )
            counts.interactions += total

            # Follow-up tasks: ~0.6 per customer for its account manager, due from a month ago to two
            # months ahead at 10:00; most open, some done or cancelled.
            task_counts = rng.poisson(TASKS_PER_CUSTOMER, size)
            total = int(task_counts.sum())
            task_ids = np.arange(first_task + counts.tasks, first_task + counts.tasks + total, dtype=np.int64)
            owners = np.repeat(manager_ids, task_counts)
            due = np.datetime64(as_of.isoformat(), "m") + (
                (rng.integers(-30, 61, total) * 1440) + 10 * 60 - utc_offset_hours * 60
            ).astype("timedelta64[m]")
            due_text = [f"{value.replace('T', ' ')}:00+00:00" for value in due.astype(str).tolist()]
            created_text = [
                f"{value.replace('T', ' ')}:00+00:00"
                for value in (due - np.timedelta64(7 * 1440, "m")).astype(str).tolist()
            ]
            status = np.array(TASK_STATUSES)[rng.choice(len(TASK_STATUSES), total, p=TASK_STATUS_WEIGHTS)]
            closed = (status != "open").tolist()
            writer.write(
                "service_task",
                [
                    "id",
                    "customer_id",
                    "title",
                    "owner_id",
                    "due_at",
                    "priority",
                    "status",
                    "source",
                    "contact_kind",
                    "notice_id",
                    "step",
                    "note",
                    "completion_note",
                    "activity_id",
                    "created_by_id",
                    "created_at",
                    "completed_at",
                    "completed_by_id",
                    "updated_at",
                ],
                [
                    task_ids,
                    np.repeat(ids, task_counts),
                    [f"Follow-up {t}" for t in task_ids.tolist()],
                    owners,
                    due_text,
                    rng.choice([1, 2, 3, 4], total, p=[0.2, 0.5, 0.2, 0.1]),
                    status,
                    np.array(TASK_SOURCES)[rng.choice(len(TASK_SOURCES), total, p=TASK_SOURCE_WEIGHTS)],
                    np.array(TASK_KINDS)[rng.choice(len(TASK_KINDS), total, p=TASK_KIND_WEIGHTS)],
                    [None] * total,
                    [""] * total,
                    [""] * total,
                    [""] * total,
                    [None] * total,
                    owners,
                    created_text,
                    [d if c else None for d, c in zip(due_text, closed, strict=True)],
                    [int(o) if c else None for o, c in zip(owners.tolist(), closed, strict=True)],
                    [d if c else c_at for d, c, c_at in zip(due_text, closed, created_text, strict=True)],
                ],
            )
            counts.tasks += total
            if verbose:
                print(
                    f"  {counts.customers:>9,} customers, {counts.orders:>11,} orders "
                    f"({time.perf_counter() - started:.1f} s)",
                    file=sys.stderr,
                )

        for (industry_id, year), last_value in sequences.items():
            CustomerCodeSequence.objects.update_or_create(
                industry_id=industry_id, year=year, defaults={"last_value": last_value}
            )
        _sequences_sync(
            connection,
            [
                "auth_user",
                "auth_user_groups",
                "crm_customer",
                "crm_order",
                "crm_satisfactionsurvey",
                "crm_interaction",
                "service_task",
            ],
        )

    if connection.vendor == "postgresql" and not connection.in_atomic_block:  # VACUUM needs autocommit
        with connection.cursor() as cursor:
            for table in [
                "crm_customer",
                "crm_order",
                "crm_satisfactionsurvey",
                "crm_interaction",
                "service_task",
                "auth_user",
            ]:
                cursor.execute(f"VACUUM ANALYZE {table}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers to add (default 100000)")
    parser.add_argument(
        "--as-of", type=datetime.date.fromisoformat, default=None, help="last day of the order history (default: today)"
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.customers <= 0:
        parser.error("--customers must be a positive number")
    _django_setup()
    from core.clock import local_today  # project code loads once main() has set Django up

    started = time.perf_counter()
    counts = generate(customers=args.customers, as_of=args.as_of or local_today(), seed=args.seed)
    print(
        f"generated {counts.customers:,} customers, {counts.managers:,} managers, {counts.orders:,} orders, "
        f"{counts.surveys:,} surveys, {counts.interactions:,} activities, {counts.tasks:,} tasks "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
