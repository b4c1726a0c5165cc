"""Events tiering sends to the apps above it (the service side), which connect in their AppConfig.ready.

`tiers_changed` is sent after the customers' tiers may have moved: by a run that succeeded
(`run_id`, `customer_ids=None`: anyone in it) and by a manual override set or lifted
(`customer_ids`). Sent after commit, so receivers read the new standing.
"""

from django.db import transaction
from django.dispatch import Signal

tiers_changed = Signal()


def tiers_changed_send_on_commit(*, run_id: int | None = None, customer_ids=None) -> None:
    ids = None if customer_ids is None else sorted({int(pk) for pk in customer_ids})
    transaction.on_commit(lambda: tiers_changed.send(sender="tiering", run_id=run_id, customer_ids=ids))
