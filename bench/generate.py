"""Generate a benchmark data set straight into the database.

Customers with industries and account managers, ~20 orders per customer over 24 months with a
long-tail spend distribution, satisfaction surveys and interactions. On PostgreSQL every table
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
INTERACTION_KINDS = ["visit", "call", "email", "inquiry", "complaint", "referral", "social_share"]
INTERACTION_WEIGHTS = [0.25, 0.3, 0.2, 0.1, 0.05, 0.04, 0.06]
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
    now = datetime.datetime.now(datetime.UTC).isoformat()
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
        as_of_ordinal = as_of.toordinal()
        history_days = 730

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
            created = [f"{value}+00:00" for value in created]
            b2c = rng.random(size) < 0.3
            potential = rng.integers(3, 11, size)
            potential_null = rng.random(size) < 0.1
            manager_ids = user_ids[(ids - first_customer) % managers]
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
                    ["[]"] * size,
                    ["0"] * size,
                    [None] * size,
                    ["0"] * size,
                    created,
                    created,
                ],
            )
            counts.customers += size

            # Orders: per-customer rate from a gamma (mean 20 over 24 months) and a log-normal
            # customer size that gives the long tail of spend (a few customers buy far more).
            # Bigger customers also order more often.
            customer_size = np.exp(rng.normal(0.0, 1.2, size))
            rate = rng.gamma(2.0, 1 / 2.0, size) * customer_size**0.5
            rate *= 20 / rate.mean()
            rate[prospect] = 0
            order_counts = rng.poisson(rate)
            total = int(order_counts.sum())
            owner = np.repeat(ids, order_counts)
            amount = np.round(
                np.exp(rng.normal(np.log(4000.0), 0.8, total)) * np.repeat(customer_size, order_counts), 2
            ).clip(0.01, 9e9)
            # Orders only after the customer started, within the 24-month history.
            earliest = np.maximum(np.repeat(since, order_counts), as_of_ordinal - history_days)
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

            # Interactions: ~3 per customer; complaints, referrals and shares are rare.
            interaction_counts = rng.poisson(3.0, size)
            total = int(interaction_counts.sum())
            interaction_ids = np.arange(
                first_interaction + counts.interactions,
                first_interaction + counts.interactions + total,
                dtype=np.int64,
            )
            writer.write(
                "crm_interaction",
                ["id", "customer_id", "kind", "occurred_at", "note", "recorded_by_id", "created_at"],
                [
                    interaction_ids,
                    np.repeat(ids, interaction_counts),
                    np.array(INTERACTION_KINDS)[rng.choice(len(INTERACTION_KINDS), total, p=INTERACTION_WEIGHTS)],
                    _dates(as_of_ordinal - rng.integers(0, history_days, total)),
                    [""] * total,
                    [None] * total,
                    [now] * total,
                ],
            )
            counts.interactions += total
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
            ["auth_user", "auth_user_groups", "crm_customer", "crm_order", "crm_satisfactionsurvey", "crm_interaction"],
        )

    if connection.vendor == "postgresql" and not connection.in_atomic_block:  # VACUUM needs autocommit
        with connection.cursor() as cursor:
            for table in ["crm_customer", "crm_order", "crm_satisfactionsurvey", "crm_interaction", "auth_user"]:
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
        f"{counts.surveys:,} surveys, {counts.interactions:,} interactions in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
