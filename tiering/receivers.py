"""How tiering reacts to the customer records: connected in TieringConfig.ready."""

from tiering.services.reevaluate import customers_reevaluate_enqueue


def reevaluate_on_customer_data_changed(sender, *, customer_ids, **kwargs) -> None:
    """New orders, surveys, complaints or scoring inputs may trip an early warning: re-evaluate
    those customers after the commit (queued; never fails the write that sent it)."""
    customers_reevaluate_enqueue(customer_ids)
