"""Celery tasks of service commitments: thin wrappers over services, run by beat every minute."""

from celery import shared_task

from commitments.services import playbooks, sla


@shared_task(acks_late=True)
def sla_sweep() -> dict:
    result = sla.sla_sweep()
    return {"reminded": result.reminded, "breached": result.breached}


@shared_task(acks_late=True)
def playbooks_sweep() -> int:
    return playbooks.playbooks_sweep()
