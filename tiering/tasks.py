"""Celery tasks: thin wrappers that take ids and dates, call services and own retries."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError, connections

from core.clock import local_today
from core.exceptions import DomainError
from tiering import services
from tiering.models import TierRun
from tiering.services import task_names
from tiering.services.runs import tier_runs_redispatch

logger = logging.getLogger(__name__)

CHUNK_MAX_RETRIES = 3
# The database going away (restart, fail-over) is waited out for about five minutes.
CHUNK_MAX_RETRIES_DB_DOWN = 14
STALLED_RUN_IDLE = datetime.timedelta(minutes=30)


def _chunk_retries_allowed(exc: Exception) -> int:
    return CHUNK_MAX_RETRIES_DB_DOWN if isinstance(exc, OperationalError | InterfaceError) else CHUNK_MAX_RETRIES


# The services send these three by name (task_names), so the names are pinned here.
@shared_task(
    name=task_names.TIER_RUN_CHUNK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=CHUNK_MAX_RETRIES_DB_DOWN,
)
def tier_run_chunk(self, chunk_id: int) -> int:
    """Process one chunk; retried with backoff, then marked failed (the run's close reports it).

    It never ends in an exception: a failed header task would stop the chord, and the callback
    that closes the run (succeeded, or failed with the reason) would never run."""
    try:
        services.chunk_process(chunk_id)
    except Exception as exc:
        if self.request.retries < _chunk_retries_allowed(exc):
            if self.request.is_eager:  # Celery's eager retry propagates Retry instead of retrying
                return tier_run_chunk.apply(args=[chunk_id], retries=self.request.retries + 1).get()
            raise self.retry(exc=exc, countdown=min(2**self.request.retries, 30)) from exc
        try:
            services.chunk_failed(chunk_id, repr(exc))
        except Exception:
            logger.exception("tier run chunk %s failed and could not be marked failed", chunk_id)
    return chunk_id


@shared_task(
    name=task_names.TIER_RUN_CLOSE, acks_late=True, max_retries=5, autoretry_for=(Exception,), retry_backoff=True
)
def tier_run_close(run_id: int) -> str:
    return services.tier_run_close(run_id).status


@shared_task(acks_late=True)
def tier_run_scheduled(scope: str = TierRun.Scope.ALL, as_of: str | None = None) -> int | None:
    """Beat entry point for the quarterly (everyone) and monthly (VIP and at-risk) runs."""
    day = datetime.date.fromisoformat(as_of) if as_of else local_today()
    try:
        return services.tier_run_start(as_of=day, trigger=TierRun.Trigger.SCHEDULE, scope=scope).pk
    except DomainError as exc:  # already done, in progress, or a date the service refuses: retrying cannot help
        logger.warning("scheduled tier run for %s (%s) not started: %s %s", day, scope, exc.message, exc.fields)
        return None


@shared_task(acks_late=True)
def downgrade_warnings_send(as_of: str | None = None) -> int:
    """Daily: on the configured day before a quarterly run, warn managers of coming downgrades."""
    day = datetime.date.fromisoformat(as_of) if as_of else local_today()
    return services.downgrade_warnings_send_if_due(today=day)


@shared_task(name=task_names.REEVALUATE_CUSTOMERS, bind=True, acks_late=True, max_retries=3)
def reevaluate_customers(self, customer_ids: list[int]) -> int:
    try:
        return services.customers_reevaluate(customer_ids=customer_ids)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=10) from exc


@shared_task(acks_late=True)
def reevaluate_sweep() -> int:
    """Hourly: re-evaluate customers whose data arrived since the last sweep; expire overrides;
    fail runs that stopped making progress so they can be resumed."""
    services.overrides_expire(today=local_today())
    services.tier_runs_fail_stalled(idle=STALLED_RUN_IDLE)
    return services.customers_reevaluate_sweep()


@worker_ready.connect
def runs_redispatch_on_worker_ready(sender=None, **kwargs) -> None:
    """A worker coming back sends the pending chunks of unfinished runs again, so a run whose worker
    was killed finishes now, not after the visibility timeout or the stalled-run sweep. It runs in
    the worker's main process before it takes its first task."""
    try:
        tier_runs_redispatch()
    except Exception:  # the database or broker unavailable: the sweep and resume remain
        logger.exception("the pending chunks of unfinished tier runs could not be sent again")
    finally:
        connections.close_all()  # the main process keeps no connection; its pool processes have their own
