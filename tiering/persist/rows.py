"""What a chunk hands to tiering.persist, as columns, and how a value is spelled as SQL text.

Both database paths read these, so they live apart from the package's entry points.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from crm.models import Customer


def text_value(value):
    """A value as PostgreSQL reads it from text (COPY's csv, an UPDATE parameter); None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


@dataclass
class ChunkRows:
    """What a chunk writes, one array entry per customer (sorted by id).

    NaN marks a missing number (no previous score, a metric without a value); -1 a missing id
    and a last order day <= 0 no order. Metric values and points are already rounded."""

    run_id: int
    created_at: datetime.datetime
    as_of: datetime.date  # the run's: the day the customers' spend, last order, lifecycle and flags are for
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


def customer_columns(columns: Sequence[str], constants: dict) -> tuple[list[str], list[str], list]:
    """For an update of customer rows by COPY: the table columns of `columns`, those of the
    constant fields, and the constants' values as text."""
    opts = Customer._meta
    db_columns = [opts.get_field(name).column for name in columns]
    const_columns = [opts.get_field(name).column for name in constants]
    return db_columns, const_columns, [text_value(v) for v in constants.values()]
