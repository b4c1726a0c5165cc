"""How service commitments react to the domains below: connected in CommitmentsConfig.ready."""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError

from commitments import tasks
from commitments.services.cases import cases_first_response_from_activities
from commitments.services.playbooks import prospects_grade_a

logger = logging.getLogger(__name__)


def cases_on_customer_data(sender, *, customer_ids, cause, **kwargs) -> None:
    """An activity by staff answers the customer's waiting cases; a prospect graded A starts
    its playbook. Both after the commit, for the few customers of one write."""
    ids = list(customer_ids)
    if cause == "interactions":
        transaction.on_commit(lambda: cases_first_response_from_activities(ids))
    elif cause == "customers":
        transaction.on_commit(lambda: prospects_grade_a(ids))


def playbooks_on_tiers_changed(sender, *, run_id=None, customer_ids=None, **kwargs) -> None:
    """A run that succeeded (or a manual tier) wrote notices: plan their playbook steps now rather
    than at the next minute's sweep. Sent after the commit; queued, never fails the run: if the
    broker is away, the every-minute beat sweep plans them."""
    try:
        tasks.playbooks_sweep.apply_async(retry=False)
    except OperationalError:
        logger.warning(
            "playbook sweep not queued after tier changes; the every-minute sweep will plan them", exc_info=True
        )
