"""Runs that stopped making progress (every worker gone, the database away longer than the
retries last) are marked failed with the reason, so an administrator can resume them."""

from __future__ import annotations

import datetime
import logging

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tiering.models import TierRun

logger = logging.getLogger(__name__)


def tier_runs_fail_stalled(*, idle: datetime.timedelta, now: datetime.datetime | None = None) -> list[int]:
    """Fail pending/running runs with no chunk finished within `idle` (nor started within it)."""
    now = now or timezone.now()
    cutoff = now - idle
    stalled = list(
        TierRun.objects.filter(status__in=[TierRun.Status.PENDING, TierRun.Status.RUNNING], created_at__lt=cutoff)
        .annotate(last_progress=Max("chunks__finished_at"))
        .filter(Q(last_progress__isnull=True) | Q(last_progress__lt=cutoff))
        .filter(Q(started_at__isnull=True) | Q(started_at__lt=cutoff))
        .values_list("pk", flat=True)
    )
    if not stalled:
        return []
    minutes = int(idle.total_seconds() // 60)
    TierRun.objects.filter(pk__in=stalled, status__in=[TierRun.Status.PENDING, TierRun.Status.RUNNING]).update(
        status=TierRun.Status.FAILED,
        finished_at=now,
        error=_("No progress for %(minutes)d minutes (workers or the database were unavailable); resume the run.")
        % {"minutes": minutes},
    )
    logger.error("tier runs %s failed: no progress for %d minutes", stalled, minutes)
    return stalled
