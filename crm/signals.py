"""Events the customer records send to the apps above them.

`customer_data_changed` is sent by crm.services whenever orders, surveys, interactions or a
customer's scoring inputs are stored, whichever door they came in by (API, import, admin,
web). Higher apps connect to it in their AppConfig.ready (tiering re-evaluates the customers'
early warnings); crm never imports them.

Arguments: `customer_ids` (sorted list of ints) and `cause` ("orders", "surveys",
"interactions" or "customers"). It is sent inside the writing transaction; a receiver that
does work elsewhere should wait for the commit (transaction.on_commit).
"""

from django.dispatch import Signal

customer_data_changed = Signal()


def customer_data_changed_send(*, customer_ids, cause: str) -> None:
    ids = sorted({int(pk) for pk in customer_ids if pk is not None})
    if ids:
        customer_data_changed.send(sender=cause, customer_ids=ids, cause=cause)
