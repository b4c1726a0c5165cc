"""Set-based writes of a tier-run chunk, kept apart so they can be tuned per database.

PostgreSQL: the chunk's numbers go, column by column, into one temporary table with a single
binary COPY; the customer rows (first: the UPDATE locks them), then the history rows with their
snapshot arrays, are written from it by two statements; the changes and their notices go straight
into their tables by COPY. Anywhere else: executemany and bulk_create. Callers run these inside
the chunk's transaction; nothing here commits. Measurements: docs/performance.md.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.db.models import Max

from core import pgcopy
from crm.models import Customer
from tiering.models import Notice, TierAssignment, TierChange, TierRun

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
    "metric_values",
    "point_values",
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
    """One history row per customer, values in ASSIGNMENT_COLUMNS order (the portable path;
    PostgreSQL writes them from the chunk's temporary table)."""
    if rows:
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


# --- a whole chunk at once ------------------------------------------------------------------------


@dataclass
class ChunkRows:
    """What a chunk writes, one array entry per customer (sorted by id).

    NaN marks a missing number (no previous score, a metric without a value); -1 a missing id
    and a last order day <= 0 no order. Metric values and points are already rounded."""

    run_id: int
    created_at: datetime.datetime
    customer_ids: np.ndarray
    scores: np.ndarray
    computed_tier_ids: np.ndarray
    tier_ids: np.ndarray
    previous_tier_ids: np.ndarray
    previous_scores: np.ndarray
    profile_ids: np.ndarray
    profile_versions: dict[int, int]
    lifecycle: list[str]
    overridden: np.ndarray
    runs_below: np.ndarray
    flags: list[list[str]]
    metric_keys: list[str]  # the run's: the order of both snapshot matrices' columns
    metric_values: np.ndarray  # customers x metric_keys, NaN where a metric has no value
    point_values: np.ndarray  # customers x metric_keys, NaN where the customer's profile has no rule
    spend_12m: np.ndarray
    last_order_days: np.ndarray  # proleptic Gregorian ordinal

    def __len__(self) -> int:
        return len(self.customer_ids)


def _json_numbers(values: np.ndarray) -> list[float | None]:
    values = np.asarray(values, dtype=float)
    return [None if v != v else v for v in values.tolist()]


def _json_rows(matrix: np.ndarray) -> list[list[float | None]]:
    return [[None if v != v else v for v in row] for row in np.asarray(matrix, dtype=float).tolist()]


def chunk_write(rows: ChunkRows) -> bool:
    """One history row per customer and the customers' new standing. True when every customer was
    still there (so later writes of the chunk need not check again).

    A chunk writes once: its claim commits with these rows, so a duplicate is a bug and fails the chunk."""
    if not len(rows):
        return True
    if _is_postgres():
        return _chunk_write_postgres(rows)
    metrics, points = _json_rows(rows.metric_values), _json_rows(rows.point_values)
    previous_scores = _json_numbers(rows.previous_scores)
    assignments_write(
        [
            (
                rows.run_id,
                customer_id,
                f"{score:.2f}",
                computed,
                tier,
                previous if previous >= 0 else None,
                None if previous_score is None else f"{previous_score:.2f}",
                profile_id,
                rows.profile_versions[profile_id],
                lifecycle,
                metrics[i],
                points[i],
                overridden,
                runs_below,
                flags,
                rows.created_at,
            )
            for i, (
                customer_id,
                score,
                computed,
                tier,
                previous,
                previous_score,
                profile_id,
                lifecycle,
                overridden,
                runs_below,
                flags,
            ) in enumerate(
                zip(
                    rows.customer_ids.tolist(),
                    rows.scores.tolist(),
                    rows.computed_tier_ids.tolist(),
                    rows.tier_ids.tolist(),
                    rows.previous_tier_ids.tolist(),
                    previous_scores,
                    rows.profile_ids.tolist(),
                    rows.lifecycle,
                    rows.overridden.tolist(),
                    rows.runs_below.tolist(),
                    rows.flags,
                    strict=True,
                )
            )
        ]
    )
    customers_update(
        ["tier", "computed_tier", "score", "lifecycle", "flags", "spend_12m", "last_order_at", "runs_below_threshold"],
        [
            (
                customer_id,
                tier,
                computed,
                f"{score:.2f}",
                lifecycle,
                flags,
                f"{spend:.2f}",
                datetime.date.fromordinal(last_order) if last_order > 0 else None,
                runs_below,
            )
            for customer_id, tier, computed, score, lifecycle, flags, spend, last_order, runs_below in zip(
                rows.customer_ids.tolist(),
                rows.tier_ids.tolist(),
                rows.computed_tier_ids.tolist(),
                rows.scores.tolist(),
                rows.lifecycle,
                rows.flags,
                rows.spend_12m.tolist(),
                rows.last_order_days.tolist(),
                rows.runs_below.tolist(),
                strict=True,
            )
        ],
        {"tiered_at": rows.created_at},
    )
    # History of a customer deleted since the chunk read it goes too (PostgreSQL joins instead).
    first, last = int(rows.customer_ids[0]), int(rows.customer_ids[-1])
    TierAssignment.objects.filter(run_id=rows.run_id, customer_id__gte=first, customer_id__lte=last).exclude(
        customer_id__in=Customer.objects.filter(id__gte=first, id__lte=last).values("id")
    ).delete()
    return False


_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_NO_DAY = -1_000_000  # last_order_day sentinel: no order


def _codes(values: list) -> tuple[np.ndarray, list]:
    """1-based position of each value in the list of its distinct values (for a SQL array lookup)."""
    distinct: dict = {}
    codes = np.fromiter((distinct.setdefault(v, len(distinct) + 1) for v in values), dtype=np.int32, count=len(values))
    return codes, list(distinct)


_CHUNK_TABLE = "tiering_chunk_rows"


def _chunk_write_postgres(rows: ChunkRows) -> bool:
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
            f"tiered_at = %s FROM {_CHUNK_TABLE} AS t WHERE c.id = t.id AND c.id BETWEEN %s AND %s"
        )
        first, last = int(rows.customer_ids[0]), int(rows.customer_ids[-1])
        cursor.execute(update, [lifecycles, flags, rows.created_at, first, last])
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
    raw = cursor.cursor
    if hasattr(raw, "copy_expert"):  # psycopg2
        raw.copy_expert(sql, io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data))
    else:  # psycopg 3
        with raw.copy(sql) as copy:
            copy.write(data)


_NULL = "\\N"


def _text_string(value: str) -> str:
    """A text value escaped for COPY's text format (backslash, tab, newline, carriage return)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


# --- tier changes and their notices ---------------------------------------------------------------


@dataclass
class ChangeRows:
    """The tier changes of a chunk, one list entry per change; reasons and notice payloads are JSON
    text already (the same text goes to the notice log line)."""

    customer_ids: list[int]
    from_tier_ids: list[int | None]
    to_tier_ids: list[int]
    directions: list[str]  # also the notices' kind
    scores_before: list[float | None]
    scores: list[float]
    reasons_json: list[str]
    recipient_ids: list[int | None]
    payloads_json: list[str]

    def __len__(self) -> int:
        return len(self.customer_ids)

    def rows(self) -> list[tuple]:
        """One tuple per change, the fields in the order they are declared above."""
        return list(
            zip(
                self.customer_ids,
                self.from_tier_ids,
                self.to_tier_ids,
                self.directions,
                self.scores_before,
                self.scores,
                self.reasons_json,
                self.recipient_ids,
                self.payloads_json,
                strict=True,
            )
        )


def changes_with_notices_write(
    *, run_id: int, created_at: datetime.datetime, changes: ChangeRows, customers_present: bool = False
) -> None:
    """A TierChange per row and a Notice for each change, for customers that still exist
    (`customers_present`: the caller holds every one of them locked already)."""
    if not len(changes):
        return
    if _is_postgres():
        _changes_with_notices_postgres(run_id, created_at, changes, customers_present)
        return
    rows = changes.rows()
    existing = set(Customer.objects.filter(pk__in=changes.customer_ids).values_list("pk", flat=True))
    rows = [row for row in rows if row[0] in existing]
    change_ids = changes_write(
        [
            TierChange(
                run_id=run_id,
                customer_id=customer_id,
                from_tier_id=from_tier,
                to_tier_id=to_tier,
                direction=direction,
                score_before=score_before,
                score=score,
                reasons=json.loads(reasons),
            )
            for customer_id, from_tier, to_tier, direction, score_before, score, reasons, _r, _p in rows
        ]
    )
    notices_write(
        [
            Notice(
                kind=direction,
                customer_id=customer_id,
                recipient_id=recipient_id,
                change_id=change_ids[customer_id],
                run_id=run_id,
                payload=json.loads(payload),
            )
            for customer_id, _f, _t, direction, _b, _s, _r, recipient_id, payload in rows
            if customer_id in change_ids
        ]
    )


def _changes_with_notices_postgres(
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


def previous_points(
    *, exclude_run_id: int, customer_ids: list[int], keys: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """For each customer (in the given order): the per-rule points of its latest assignment outside
    one run as a row aligned with `keys` (NaN: no points), whether it has such an assignment with
    points, and its code (None once deleted)."""
    size = len(customer_ids)
    matrix = np.full((size, len(keys)), np.nan)
    if not size:
        return matrix, np.zeros(0, dtype=bool), []
    codes = customer_codes(customer_ids)
    try:
        read = _is_postgres() and _previous_points_postgres(exclude_run_id, customer_ids, keys, matrix)
    except ValueError:  # snapshots of another width (an older metric set): read them one by one
        read = False
    if not read:
        latest = latest_points(exclude_run_id=exclude_run_id, customer_ids=customer_ids)
        for row, customer_id in enumerate(customer_ids):
            for column, key in enumerate(keys):
                value = latest.get(customer_id, {}).get(key)
                matrix[row, column] = np.nan if value is None else value
    has_previous = ~np.isnan(matrix).all(axis=1)
    return matrix, has_previous, [codes.get(c) for c in customer_ids]


def _previous_points_postgres(
    exclude_run_id: int, customer_ids: list[int], keys: list[str], matrix: np.ndarray
) -> bool:
    """Fill `matrix` in place: one index probe per customer on (customer, created_at DESC), however
    long the history, read as binary arrays. True when done."""
    width = len(keys)
    if not width:
        return True
    with connection.cursor() as cursor:
        columns = pgcopy.columns_read(
            cursor.cursor,
            "SELECT COALESCE(a.run_id, -1), COALESCE(a.point_values, array_fill('NaN'::float8, ARRAY[%s])) "
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS c(id, n) LEFT JOIN LATERAL ("
            "SELECT run_id, point_values FROM tiering_tierassignment WHERE customer_id = c.id AND run_id <> %s "
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


def latest_points(*, exclude_run_id: int, customer_ids: list[int]) -> dict[int, dict]:
    """Per-rule points of each customer's latest assignment outside one run: {customer_id: points}."""
    latest = (
        TierAssignment.objects.filter(customer_id__in=customer_ids)
        .exclude(run_id=exclude_run_id)
        .values("customer_id")
        .annotate(last_id=Max("id"))
        .values_list("last_id", flat=True)
    )
    return {a.customer_id: a.points for a in TierAssignment.objects.filter(pk__in=list(latest)).select_related("run")}


def customer_codes(customer_ids: list[int]) -> dict[int, str]:
    if _is_postgres():
        with connection.cursor() as cursor:
            # The id range lets PostgreSQL read only the chunk's part of the table.
            cursor.execute(
                "SELECT id, code FROM crm_customer WHERE id BETWEEN %s AND %s AND id = ANY(%s::bigint[])",
                [min(customer_ids), max(customer_ids), list(customer_ids)],
            )
            return dict(cursor.fetchall())
    return dict(Customer.objects.filter(pk__in=customer_ids).values_list("id", "code"))
