"""The writes of a tier-run chunk by executemany and bulk_create: what SQLite (tests, a laptop)
and any other database get. PostgreSQL uses the notice and ORM helpers here too.

Callers run these inside the chunk's transaction; nothing here commits.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence

import numpy as np
from django.db import connection
from django.db.models import Max

from crm.models import Customer
from tiering.models import Notice, TierAssignment, TierChange
from tiering.persist.rows import ChangeRows, ChunkRows

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


def customers_update(columns: Sequence[str], rows: list[tuple], constants: dict) -> None:
    """One UPDATE per customer row, executed as a batch. Values are prepared by their fields, as
    the ORM prepares them: on SQLite a timestamp is text, and only the ORM's own spelling of it
    compares correctly with the ORM's (`updated_since`)."""
    opts = Customer._meta
    qn = connection.ops.quote_name
    fields = [opts.get_field(name) for name in columns]
    const_fields = [opts.get_field(name) for name in constants]
    assignments = ", ".join(f"{qn(field.column)} = %s" for field in [*fields, *const_fields])
    sql = f"UPDATE {qn(opts.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608 (quoted identifiers only)
    const_values = [
        field.get_db_prep_value(v, connection) for field, v in zip(const_fields, constants.values(), strict=True)
    ]
    params = [
        [
            *(field.get_db_prep_value(v, connection) for field, v in zip(fields, row[1:], strict=True)),
            *const_values,
            row[0],
        ]
        for row in rows
    ]
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


def _json_numbers(values: np.ndarray) -> list[float | None]:
    values = np.asarray(values, dtype=float)
    return [None if v != v else v for v in values.tolist()]


def _json_rows(matrix: np.ndarray) -> list[list[float | None]]:
    return [[None if v != v else v for v in row] for row in np.asarray(matrix, dtype=float).tolist()]


def chunk_write(rows: ChunkRows) -> bool:
    """History rows by executemany, then the customers' standing. False: whether every customer is
    still there is not known here, so later writes of the chunk check again."""
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
        {"tiered_at": rows.created_at, "figures_as_of": rows.as_of},
    )
    # History of a customer deleted since the chunk read it goes too (PostgreSQL joins instead).
    first, last = int(rows.customer_ids[0]), int(rows.customer_ids[-1])
    TierAssignment.objects.filter(run_id=rows.run_id, customer_id__gte=first, customer_id__lte=last).exclude(
        customer_id__in=Customer.objects.filter(id__gte=first, id__lte=last).values("id")
    ).delete()
    return False


def changes_with_notices_write(*, run_id: int, changes: ChangeRows) -> None:
    """The changes by bulk_create, then a notice for each change that was written."""
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


# A snapshot column of TierAssignment and the property that reads it by metric key.
SNAPSHOTS = {"point_values": "points", "metric_values": "metrics"}


def previous_snapshots_fill(
    exclude_run_id: int, customer_ids: list[int], keys: list[str], matrix: np.ndarray, column: str = "point_values"
) -> None:
    """Fill `matrix` in place from each customer's latest assignment, read through the ORM."""
    latest = latest_snapshots(exclude_run_id=exclude_run_id, customer_ids=customer_ids, column=column)
    for row, customer_id in enumerate(customer_ids):
        for position, key in enumerate(keys):
            value = latest.get(customer_id, {}).get(key)
            matrix[row, position] = np.nan if value is None else value


def latest_points(*, exclude_run_id: int, customer_ids: list[int]) -> dict[int, dict]:
    """Per-rule points of each customer's latest assignment outside one run: {customer_id: points}."""
    return latest_snapshots(exclude_run_id=exclude_run_id, customer_ids=customer_ids, column="point_values")


def latest_snapshots(*, exclude_run_id: int, customer_ids: list[int], column: str) -> dict[int, dict]:
    """One snapshot (points or metric values, by key) of each customer's latest assignment
    outside one run: {customer_id: {key: value}}."""
    latest = (
        TierAssignment.objects.filter(customer_id__in=customer_ids)
        .exclude(run_id=exclude_run_id)
        .values("customer_id")
        .annotate(last_id=Max("id"))
        .values_list("last_id", flat=True)
    )
    attribute = SNAPSHOTS[column]
    return {
        a.customer_id: getattr(a, attribute)
        for a in TierAssignment.objects.filter(pk__in=list(latest)).select_related("run")
    }


def customer_codes(customer_ids: list[int]) -> dict[int, str]:
    return dict(Customer.objects.filter(pk__in=customer_ids).values_list("id", "code"))
