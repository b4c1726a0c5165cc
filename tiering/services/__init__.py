"""Tiering writes. Views, the API, tasks, admin and commands all come through here."""

from tiering.services.downgrade_warnings import downgrade_warnings_send_for_period, downgrade_warnings_send_if_due
from tiering.services.notices import notices_acknowledge, notices_deliver
from tiering.services.overrides import (
    override_check,
    override_remove,
    override_set,
    overrides_expire,
    user_may_override,
)
from tiering.services.reevaluate import (
    customers_reevaluate,
    customers_reevaluate_enqueue,
    customers_reevaluate_sweep,
)
from tiering.services.runs import (
    chunk_failed,
    chunk_process,
    tier_run_close,
    tier_run_execute,
    tier_run_pending_chunk_ids,
    tier_run_resume,
    tier_run_start,
)
from tiering.services.settings import change_reason_check, tiering_settings_save
from tiering.services.watchdog import tier_runs_fail_stalled

__all__ = [
    "change_reason_check",
    "chunk_failed",
    "chunk_process",
    "customers_reevaluate",
    "customers_reevaluate_enqueue",
    "customers_reevaluate_sweep",
    "downgrade_warnings_send_for_period",
    "downgrade_warnings_send_if_due",
    "notices_acknowledge",
    "notices_deliver",
    "override_check",
    "override_remove",
    "override_set",
    "overrides_expire",
    "tier_run_close",
    "tier_run_execute",
    "tier_run_pending_chunk_ids",
    "tier_run_resume",
    "tier_run_start",
    "tier_runs_fail_stalled",
    "tiering_settings_save",
    "user_may_override",
]
