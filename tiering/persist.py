"""Set-based writes of a tier-run chunk, kept apart so they can be tuned per database.

PostgreSQL: COPY into the history table and COPY into a temporary table followed by one
`UPDATE ... FROM` for the customer rows. Anywhere else: bulk_create and executemany.
Callers run these inside the chunk's transaction; nothing here commits.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable, Sequence

from django.db import connection

from crm.models import Customer
from tiering.models import Notice, TierAssignment, TierChange

ASSIGNMENT_COLUMNS = (
    "run_id",
    "customer_id",
    "score",
    "computed_tier_id",
    "tier_id",
    "previous_tier_id",
    "previous_score",
    "profile_id",
    "profile_version",
    "lifecycle",
    "metrics",
    "points",
    "overridden",
    "runs_below_threshold",
    "flags",
    "created_at",
)


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _csv_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY rows into `table`. None becomes NULL (an unquoted empty field)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    plain = (str, int, float)
    writer.writerows(["" if v is None else (v if type(v) in plain else _csv_value(v)) for v in row] for row in rows)
    buffer.seek(0)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if hasattr(raw, "copy_expert"):  # psycopg2
            raw.copy_expert(sql, buffer)
        else:  # psycopg 3
            with raw.copy(sql) as copy:
                copy.write(buffer.getvalue())


def assignments_write(rows: list[tuple]) -> None:
    """One history row per customer, values in ASSIGNMENT_COLUMNS order."""
    if not rows:
        return
    if _is_postgres():
        _copy(TierAssignment._meta.db_table, ASSIGNMENT_COLUMNS, rows)
        return
    _insert_many(TierAssignment._meta.db_table, ASSIGNMENT_COLUMNS, rows)


def _insert_many(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Portable fast path: one prepared INSERT executed for every row, duplicates skipped."""
    qn = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) VALUES ({placeholders}) "  # noqa: S608
        "ON CONFLICT DO NOTHING"
    )
    adapt = connection.ops.adapt_datetimefield_value

    def value(v):
        if isinstance(v, datetime.datetime):
            return adapt(v)
        if isinstance(v, dict | list):
            return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        return v

    with connection.cursor() as cursor:
        cursor.executemany(sql, [[value(v) for v in row] for row in rows])


def customers_update(columns: Sequence[str], rows: list[tuple], constants: dict | None = None) -> None:
    """Update customer rows: `rows` are (id, *values for columns); `constants` apply to every row."""
    if not rows:
        return
    constants = constants or {}
    opts = Customer._meta
    qn = connection.ops.quote_name
    db_columns = [opts.get_field(name).column for name in columns]
    const_columns = [opts.get_field(name).column for name in constants]
    const_values = [_csv_value(v) for v in constants.values()]
    if _is_postgres():
        temp = "tiering_customer_update"
        definitions = ", ".join(
            f"{qn(col)} {opts.get_field(name).db_type(connection)}"
            for name, col in zip(columns, db_columns, strict=True)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {temp}")
            cursor.execute(f"CREATE TEMPORARY TABLE {temp} (id bigint, {definitions}) ON COMMIT DROP")
        _copy(temp, ["id", *db_columns], rows)
        assignments = [f"{qn(col)} = t.{qn(col)}" for col in db_columns]
        assignments += [f"{qn(col)} = %s" for col in const_columns]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {qn(opts.db_table)} AS c SET {', '.join(assignments)} FROM {temp} AS t WHERE c.id = t.id",  # noqa: S608 (quoted identifiers only)
                const_values,
            )
        return
    assignments = ", ".join(f"{qn(col)} = %s" for col in [*db_columns, *const_columns])
    sql = f"UPDATE {qn(opts.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608 (quoted identifiers only)
    params = [[*(_csv_value(v) for v in row[1:]), *const_values, row[0]] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def changes_write(changes: list[TierChange]) -> dict[int, int]:
    """Insert tier changes (a retried chunk finds them there) and return {customer_id: change_id}."""
    if not changes:
        return {}
    TierChange.objects.bulk_create(changes, batch_size=2000, ignore_conflicts=True)
    run_id = changes[0].run_id
    ids = [c.customer_id for c in changes]
    found = TierChange.objects.filter(run_id=run_id, customer_id__gte=min(ids), customer_id__lte=max(ids))
    wanted = set(ids)
    return {customer_id: pk for pk, customer_id in found.values_list("id", "customer_id") if customer_id in wanted}


def notices_write(notices: list[Notice]) -> None:
    if notices:
        Notice.objects.bulk_create(notices, batch_size=2000, ignore_conflicts=True)
