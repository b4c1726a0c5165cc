"""Set-based writes of a tier-run chunk, kept apart so they can be tuned per database.

Each function here picks a path: `postgres` (COPY into a temporary table, a few set-based
statements; see its docstring) or `portable` (executemany and bulk_create, for SQLite and any
other database). Callers run these inside the chunk's transaction; nothing here commits.
Measurements: docs/performance.md.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import numpy as np
from django.db import connection

from tiering.persist import portable, postgres
from tiering.persist.portable import ASSIGNMENT_COLUMNS, assignments_write, changes_write, latest_points, notices_write
from tiering.persist.rows import ChangeRows, ChunkRows

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "ChangeRows",
    "ChunkRows",
    "assignments_write",
    "changes_with_notices_write",
    "changes_write",
    "chunk_write",
    "customer_codes",
    "customers_update",
    "latest_points",
    "notices_write",
    "previous_metrics",
    "previous_points",
]


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def customers_update(columns: Sequence[str], rows: list[tuple], constants: dict | None = None) -> None:
    """Update customer rows: `rows` are (id, *values for columns); `constants` apply to every row."""
    if not rows:
        return
    path = postgres if _is_postgres() else portable
    path.customers_update(columns, rows, constants or {})


def chunk_write(rows: ChunkRows) -> bool:
    """One history row per customer and the customers' new standing. True when every customer was
    still there (so later writes of the chunk need not check again).

    A chunk writes once: its claim commits with these rows, so a duplicate is a bug and fails the chunk."""
    if not len(rows):
        return True
    if _is_postgres():
        return postgres.chunk_write(rows)
    return portable.chunk_write(rows)


def changes_with_notices_write(
    *, run_id: int, created_at: datetime.datetime, changes: ChangeRows, customers_present: bool = False
) -> None:
    """A TierChange per row and a Notice for each change, for customers that still exist
    (`customers_present`: the caller holds every one of them locked already)."""
    if not len(changes):
        return
    if _is_postgres():
        postgres.changes_with_notices_write(run_id, created_at, changes, customers_present)
        return
    portable.changes_with_notices_write(run_id=run_id, changes=changes)


def previous_points(
    *, exclude_run_id: int, customer_ids: list[int], keys: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """For each customer (in the given order): the per-rule points of its latest assignment outside
    one run as a row aligned with `keys` (NaN: no points), whether it has such an assignment with
    points, and its code (None once deleted)."""
    if not len(customer_ids):
        return np.full((0, len(keys)), np.nan), np.zeros(0, dtype=bool), []
    codes = customer_codes(customer_ids)
    matrix = _previous_snapshots("point_values", exclude_run_id, customer_ids, keys)
    has_previous = ~np.isnan(matrix).all(axis=1)
    return matrix, has_previous, [codes.get(c) for c in customer_ids]


def previous_metrics(*, exclude_run_id: int, customer_ids: list[int], keys: list[str]) -> np.ndarray:
    """For each customer (in the given order): the metric values of its latest assignment outside
    one run as a row aligned with `keys` (NaN: no value, or no assignment)."""
    return _previous_snapshots("metric_values", exclude_run_id, customer_ids, keys)


def _previous_snapshots(column: str, exclude_run_id: int, customer_ids: list[int], keys: list[str]) -> np.ndarray:
    """One snapshot column (`point_values` or `metric_values`) of each customer's latest
    assignment outside one run, customers x `keys`, NaN where there is none."""
    matrix = np.full((len(customer_ids), len(keys)), np.nan)
    if not len(customer_ids):
        return matrix
    try:
        read = _is_postgres() and postgres.previous_snapshots_fill(exclude_run_id, customer_ids, keys, matrix, column)
    except ValueError:  # snapshots of another width (an older metric set): read them one by one
        read = False
    if not read:
        portable.previous_snapshots_fill(exclude_run_id, customer_ids, keys, matrix, column)
    return matrix


def customer_codes(customer_ids: list[int]) -> dict[int, str]:
    if _is_postgres():
        return postgres.customer_codes(customer_ids)
    return portable.customer_codes(customer_ids)
