"""What an account manager does next about a notice, following the method's service side.

A downgrade: send the letter (within 3 days) and plan a win-back call (within 7); an early
warning: call within the tier's first-response time; an upgrade into the top tier: plan an
executive visit (within 14 days); a coming downgrade: a retention call before the run.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from crm.models import Interaction
from scoring.models import Tier
from tiering.models import Notice

SEND_LETTER = "send_letter"
WIN_BACK_CALL = "win_back_call"
WARNING_CALL = "warning_call"
EXECUTIVE_VISIT = "executive_visit"
RETENTION_CALL = "retention_call"


@dataclass(frozen=True)
class NextStep:
    key: str
    label: str
    source: str  # Task.Source value
    contact_kind: str  # "" when completing it records no activity
    due_in: datetime.timedelta


def _steps() -> dict[str, NextStep]:
    day = datetime.timedelta(days=1)
    return {
        SEND_LETTER: NextStep(SEND_LETTER, _("Send the downgrade letter"), "letter", "", 3 * day),
        WIN_BACK_CALL: NextStep(WIN_BACK_CALL, _("Win-back call"), "notice", Interaction.Kind.CALL, 7 * day),
        EXECUTIVE_VISIT: NextStep(EXECUTIVE_VISIT, _("Executive visit"), "notice", Interaction.Kind.VISIT, 14 * day),
        RETENTION_CALL: NextStep(
            RETENTION_CALL, _("Retention call before the run"), "notice", Interaction.Kind.CALL, 7 * day
        ),
    }


def warning_call(first_response_minutes: int) -> NextStep:
    return NextStep(
        WARNING_CALL,
        _("Call about the early warning"),
        "warning",
        Interaction.Kind.CALL,
        datetime.timedelta(minutes=first_response_minutes),
    )


def next_steps_for(notice: Notice, *, tier: Tier | None, top_tier_id: int | None) -> list[NextStep]:
    """The steps a notice offers; `tier` is the customer's current tier (for response times)."""
    steps = _steps()
    if notice.kind == Notice.Kind.DOWNGRADE:
        return [steps[SEND_LETTER], steps[WIN_BACK_CALL]]
    if notice.kind == Notice.Kind.EARLY_WARNING:
        return [warning_call(tier.first_response_minutes if tier else 24 * 60)]
    if notice.kind == Notice.Kind.DOWNGRADE_WARNING:
        return [steps[RETENTION_CALL]]
    if notice.kind == Notice.Kind.UPGRADE and notice.change_id and top_tier_id is not None:
        to_tier = getattr(notice.change, "to_tier_id", None)
        if to_tier == top_tier_id:
            return [steps[EXECUTIVE_VISIT]]
    return []
