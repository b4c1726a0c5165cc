"""Celery tasks of the service side: thin wrappers over services."""

from celery import shared_task

from service.services.contact import contact_status_refresh


@shared_task(acks_late=True)
def contact_status_refresh_all() -> int:
    """After a run: bring every customer's contact status in line with their new tier."""
    return contact_status_refresh(None)
