"""How service commitments react to the domains below: connected in CommitmentsConfig.ready."""

from django.db import transaction

from commitments.services.cases import cases_first_response_from_activities
from commitments.services.playbooks import prospects_grade_a


def cases_on_customer_data(sender, *, customer_ids, cause, **kwargs) -> None:
    """An activity by staff answers the customer's waiting cases; a prospect graded A starts
    its playbook. Both after the commit, for the few customers of one write."""
    ids = list(customer_ids)
    if cause == "interactions":
        transaction.on_commit(lambda: cases_first_response_from_activities(ids))
    elif cause == "customers":
        transaction.on_commit(lambda: prospects_grade_a(ids))
