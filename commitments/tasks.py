"""Celery tasks of service commitments: thin wrappers over services and the results, run by beat."""

from celery import shared_task

from commitments import results
from commitments.services import playbooks, sla


@shared_task(acks_late=True)
def sla_sweep() -> dict:
    result = sla.sla_sweep()
    return {"reminded": result.reminded, "breached": result.breached}


@shared_task(acks_late=True)
def playbooks_sweep() -> int:
    return playbooks.playbooks_sweep()


@shared_task
def results_refresh() -> int:
    """The company-wide results of the last four quarters, computed ahead of the readers."""
    return results.results_refresh()
