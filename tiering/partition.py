"""How tiering divides its work: time into period labels, customers into chunks of consecutive ids."""

from __future__ import annotations

import datetime

import numpy as np

from tiering.models import TierRun


def period_label(as_of: datetime.date, scope: str = TierRun.Scope.ALL) -> str:
    """`2026-Q4` for quarterly runs of everyone, `2026-11` for the monthly VIP/at-risk runs."""
    if scope == TierRun.Scope.VIP_AND_AT_RISK:
        return f"{as_of.year}-{as_of.month:02d}"
    return f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"


def chunk_bounds(ids: np.ndarray, size: int) -> list[tuple[int, int, int]]:
    """(first id, last id, count) of each run of at most `size` consecutive entries of the sorted `ids`."""
    return [
        (int(part[0]), int(part[-1]), len(part))
        for part in np.array_split(ids, range(size, len(ids), size))
        if len(part)
    ]
