"""How the service side reacts to the domains below it: connected in ServiceConfig.ready."""

from django.db import transaction

from service.services.contact import contact_status_refresh
from service.tasks import contact_status_refresh_after_run


def contact_status_on_activity(sender, *, customer_ids, cause, **kwargs) -> None:
    """A logged visit or call moves the customer's next contact (after the commit, in-process:
    one query per tier for the few customers of a write)."""
    if cause == "interactions":
        transaction.on_commit(lambda: contact_status_refresh(list(customer_ids)))


def contact_status_on_tiers_changed(sender, *, run_id=None, customer_ids=None, **kwargs) -> None:
    """A run moves anyone's plan (queued: the customers whose tier moved); an override, that customer's."""
    if customer_ids is not None:
        contact_status_refresh(customer_ids)
        return
    contact_status_refresh_after_run.delay()
