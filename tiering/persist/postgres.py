"""The writes of a tier-run chunk on PostgreSQL, by COPY and a few set-based statements.

The chunk's numbers go, column by column, into one temporary table with a single binary COPY;
the customer rows (first: the UPDATE locks them), then the history rows with their snapshot
arrays, are written from it by two statements; the changes and their notices go straight into
their tables by COPY. Callers run these inside the chunk's transaction; nothing here commits.
Only psycopg2 is supported (requirements.txt pins it): COPY goes through its copy_expert.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable, Sequence

import numpy as np
from django.db import connection

from core import pgcopy
from crm.models import Customer
from tiering.models import TierRun
from tiering.persist.rows import ChangeRows, ChunkRows, customer_columns, text_value


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY rows into `table`. None becomes NULL (an unquoted empty field)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    plain = (str, int, float)
    writer.writerows(["" if v is None else (v if type(v) in plain else text_value(v)) for v in row] for row in rows)
    buffer.seek(0)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, buffer)


def customers_update(columns: Sequence[str], rows: list[tuple], constants: dict) -> None:
    """The rows into a temporary table by COPY, then one UPDATE joining it."""
    opts = Customer._meta
    qn = connection.ops.quote_name
    db_columns, const_columns, const_values = customer_columns(columns, constants)
    temp = "tiering_customer_update"
    definitions = ", ".join(
        f"{qn(col)} {opts.get_field(name).db_type(connection)}" for name, col in zip(columns, db_columns, strict=True)
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


_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_NO_DAY = -1_000_000  # last_order_day sentinel: no order


def _codes(values: list) -> tuple[np.ndarray, list]:
    """1-based position of each value in the list of its distinct values (for a SQL array lookup)."""
    distinct: dict = {}
    codes = np.fromiter((distinct.setdefault(v, len(distinct) + 1) for v in values), dtype=np.int32, count=len(values))
    return codes, list(distinct)


_CHUNK_TABLE = "tiering_chunk_rows"


def chunk_write(rows: ChunkRows) -> bool:
    """The chunk's numbers into one temporary table by binary COPY, then the customers (the UPDATE
    locks them) and their history from it. True when every customer was still there."""
    width = len(rows.metric_keys)
    lifecycle_codes, lifecycles = _codes(rows.lifecycle)
    flag_codes, flag_lists = _codes([tuple(f) for f in rows.flags])
    last_order = np.asarray(rows.last_order_days, dtype=np.int64)
    columns: list[tuple[str, str, np.ndarray]] = [
        ("id", "bigint", rows.customer_ids),
        ("score", "float8", rows.scores),
        ("computed_tier_id", "bigint", rows.computed_tier_ids),
        ("tier_id", "bigint", rows.tier_ids),
        ("previous_tier_id", "bigint", np.where(np.asarray(rows.previous_tier_ids) >= 0, rows.previous_tier_ids, -1)),
        ("previous_score", "float8", rows.previous_scores),
        ("profile_id", "bigint", rows.profile_ids),
        ("lifecycle", "integer", lifecycle_codes),
        ("overridden", "boolean", np.asarray(rows.overridden, dtype=bool)),
        ("runs_below", "integer", rows.runs_below),
        ("flags", "integer", flag_codes),
        ("spend_12m", "float8", rows.spend_12m),
        ("last_order_day", "integer", np.where(last_order > 0, last_order - _EPOCH_ORDINAL, _NO_DAY)),
    ]
    columns += [(f"m{n}", "float8", rows.metric_values[:, n]) for n in range(width)]
    columns += [(f"p{n}", "float8", rows.point_values[:, n]) for n in range(width)]
    definitions = ", ".join(f"{name} {db_type}" for name, db_type, _values in columns)

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_CHUNK_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {_CHUNK_TABLE} ({definitions}) ON COMMIT DROP")
        _copy_data(cursor, f"COPY {_CHUNK_TABLE} FROM STDIN WITH (FORMAT binary)", pgcopy.payload(columns))

        # Parameters in the order their placeholders appear.
        params: list = [rows.run_id]
        versions_sql = "CASE t.profile_id " + " ".join("WHEN %s THEN %s" for _ in rows.profile_versions) + " END"
        for profile_id, version in rows.profile_versions.items():
            params += [profile_id, version]
        params.append(lifecycles)
        metrics_sql = _array_sql([f"t.m{n}" for n in range(width)])
        points_sql = _array_sql([f"t.p{n}" for n in range(width)])
        flags = [json.dumps(list(f), ensure_ascii=False, separators=(",", ":")) for f in flag_lists]
        params += [flags, rows.created_at]
        # Customers first: the UPDATE locks them, so none is deleted before its history is written;
        # the history then joins the customer table, skipping one deleted before the lock.
        update = (
            "UPDATE crm_customer AS c SET tier_id = t.tier_id, computed_tier_id = t.computed_tier_id, "  # noqa: S608 (fixed names; values are parameters)
            "score = t.score::numeric(5,2), lifecycle = (%s::text[])[t.lifecycle], flags = (%s::jsonb[])[t.flags], "
            "spend_12m = t.spend_12m::numeric(16,2), runs_below_threshold = t.runs_below, "
            f"last_order_at = DATE '1970-01-01' + NULLIF(t.last_order_day, {_NO_DAY}), "
            f"tiered_at = %s, figures_as_of = %s FROM {_CHUNK_TABLE} AS t WHERE c.id = t.id AND c.id BETWEEN %s AND %s"
        )
        first, last = int(rows.customer_ids[0]), int(rows.customer_ids[-1])
        cursor.execute(update, [lifecycles, flags, rows.created_at, rows.as_of, first, last])
        # Every customer updated (and so locked) is still there: no need to join them again.
        all_present = cursor.rowcount == len(rows)
        insert = (
            "INSERT INTO tiering_tierassignment (run_id, customer_id, score, computed_tier_id, tier_id, "  # noqa: S608 (fixed names; values are parameters)
            "previous_tier_id, previous_score, profile_id, profile_version, lifecycle, metric_values, point_values, "
            "overridden, runs_below_threshold, flags, created_at) "
            "SELECT %s, t.id, t.score::numeric(5,2), t.computed_tier_id, t.tier_id, NULLIF(t.previous_tier_id, -1), "
            f"NULLIF(t.previous_score, 'NaN')::numeric(5,2), t.profile_id, {versions_sql}, (%s::text[])[t.lifecycle], "
            f"{metrics_sql}, {points_sql}, t.overridden, t.runs_below, (%s::jsonb[])[t.flags], %s "
            f"FROM {_CHUNK_TABLE} AS t"
        )
        if not all_present:
            insert += " WHERE t.id IN (SELECT id FROM crm_customer WHERE id BETWEEN %s AND %s)"
            params += [first, last]
        cursor.execute(insert, params)
    return all_present


def _array_sql(columns: list[str]) -> str:
    return f"ARRAY[{', '.join(columns)}]::float8[]" if columns else "'{}'::float8[]"


def _copy_data(cursor, sql: str, data: str | bytes) -> None:
    cursor.cursor.copy_expert(sql, io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data))


_NULL = "\\N"


def _text_string(value: str) -> str:
    """A text value escaped for COPY's text format (backslash, tab, newline, carriage return)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def changes_with_notices_write(
    run_id: int, created_at: datetime.datetime, changes: ChangeRows, customers_present: bool
) -> None:
    """Both tables by COPY: the change ids are taken from their sequence first, so each notice
    names its change without reading the changes back."""

    def number(value) -> str:
        return _NULL if value is None else repr(float(value))

    def key(value) -> str:
        return _NULL if value is None else str(value)

    rows = changes.rows()
    with connection.cursor() as cursor:
        if not customers_present:  # written only for customers not deleted meanwhile
            cursor.execute("SELECT id FROM crm_customer WHERE id = ANY(%s::bigint[])", [changes.customer_ids])
            existing = {row[0] for row in cursor.fetchall()}
            rows = [row for row in rows if row[0] in existing]
        if not rows:
            return
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('tiering_tierchange', 'id')) FROM generate_series(1, %s)",
            [len(rows)],
        )
        change_ids = [row[0] for row in cursor.fetchall()]
        moment = _text_string(created_at.isoformat())
        changes_text = "".join(
            f"{change_id}\t{run_id}\t{customer_id}\t{key(from_tier)}\t{to_tier}\t{_text_string(direction)}\t"
            f"{number(score_before)}\t{number(score)}\t{_text_string(reasons)}\t{moment}\n"
            for change_id, (customer_id, from_tier, to_tier, direction, score_before, score, reasons, _r, _p) in zip(
                change_ids, rows, strict=True
            )
        )
        _copy_data(
            cursor,
            "COPY tiering_tierchange (id, run_id, customer_id, from_tier_id, to_tier_id, direction, score_before, "
            "score, reasons, created_at) FROM STDIN",
            changes_text,
        )
        notices_text = "".join(
            f"{_text_string(direction)}\t{customer_id}\t{key(recipient)}\t{change_id}\t{run_id}\t\t"
            f"{_text_string(payload)}\t{moment}\n"
            for change_id, (customer_id, _f, _t, direction, _b, _s, _r, recipient, payload) in zip(
                change_ids, rows, strict=True
            )
        )
        _copy_data(
            cursor,
            "COPY tiering_notice (kind, customer_id, recipient_id, change_id, run_id, dedupe_key, payload, "
            "created_at) FROM STDIN",
            notices_text,
        )


def previous_snapshots_fill(
    exclude_run_id: int, customer_ids: list[int], keys: list[str], matrix: np.ndarray, column: str = "point_values"
) -> bool:
    """Fill `matrix` in place from one snapshot column (`point_values` or `metric_values`): one
    index probe per customer on (customer, created_at DESC), however long the history, read as
    binary arrays. True when done."""
    if column not in ("point_values", "metric_values"):
        raise ValueError(f"not a snapshot column: {column!r}")
    width = len(keys)
    if not width:
        return True
    with connection.cursor() as cursor:
        columns = pgcopy.columns_read(
            cursor.cursor,
            f"SELECT COALESCE(a.run_id, -1), COALESCE(a.{column}, array_fill('NaN'::float8, ARRAY[%s])) "  # noqa: S608 (a fixed column name)
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS c(id, n) LEFT JOIN LATERAL ("
            f"SELECT run_id, {column} FROM tiering_tierassignment WHERE customer_id = c.id AND run_id <> %s "
            "ORDER BY created_at DESC LIMIT 1) AS a ON true ORDER BY c.n",  # the index's order: no sort per probe
            [width, list(customer_ids), exclude_run_id],
            [("run", "bigint"), ("points", ("float8[]", width))],
        )
    runs, values = columns["run"], columns["points"]
    found = sorted(set(np.unique(runs).tolist()) - {-1})
    run_keys = dict(TierRun.objects.filter(pk__in=found).values_list("id", "metric_keys"))
    for run_id in found:
        rows = runs == run_id
        their_keys = run_keys.get(run_id, [])
        if their_keys == keys:
            matrix[rows] = values[rows]
            continue
        for column, key in enumerate(keys):
            if key in their_keys:
                matrix[rows, column] = values[rows][:, their_keys.index(key)]
    return True


def customer_codes(customer_ids: list[int]) -> dict[int, str]:
    with connection.cursor() as cursor:
        # The id range lets PostgreSQL read only the chunk's part of the table.
        cursor.execute(
            "SELECT id, code FROM crm_customer WHERE id BETWEEN %s AND %s AND id = ANY(%s::bigint[])",
            [min(customer_ids), max(customer_ids), list(customer_ids)],
        )
        return dict(cursor.fetchall())
