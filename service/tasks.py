"""Celery tasks of the service side: thin wrappers over services."""

from celery import shared_task

from service.services.contact import contact_status_refresh, contact_status_refresh_moved


@shared_task(acks_late=True)
def contact_status_refresh_all() -> int:
    """Bring every customer's contact status in line with their tier, plan and activities."""
    return contact_status_refresh(None)


@shared_task(acks_late=True)
def contact_status_refresh_after_run() -> int:
    """After a run: the statuses of the customers whose tier moved."""
    return contact_status_refresh_moved()
