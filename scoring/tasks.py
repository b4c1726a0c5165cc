"""Celery tasks of scoring: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from scoring import backtest_services


# The service sends this task by name (backtest_services.BACKTEST_RUN_TASK), so the name is pinned.
@shared_task(name=backtest_services.BACKTEST_RUN_TASK, acks_late=True, reject_on_worker_lost=True)
def backtest_run(backtest_id: int) -> str:
    """Compute a queued backtest or weight suggestion. It never ends in an exception: a failure is
    stored on the row (status failed, with the reason) for the administrator to read."""
    return backtest_services.backtest_run(backtest_id).status
