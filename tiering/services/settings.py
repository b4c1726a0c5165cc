"""Saving the tiering settings: every change says why, and the history keeps it beside who and when."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from tiering.models import TieringSettings

REASON_MAX_LENGTH = 2000


def change_reason_check(reason) -> str:
    """The cleaned reason of a change; DomainError naming `reason` when there is none."""
    cleaned = reason.strip() if isinstance(reason, str) else ""
    if not cleaned:
        raise DomainError(
            _("A reason is required."),
            fields={"reason": [_("Say why this changes; the history keeps it beside who changed what and when.")]},
        )
    if len(cleaned) > REASON_MAX_LENGTH:
        raise DomainError(
            _("A reason is required."),
            fields={"reason": [_("At most %(count)d characters.") % {"count": REASON_MAX_LENGTH}]},
        )
    return cleaned


@transaction.atomic
def tiering_settings_save(*, settings: TieringSettings, changed_by, reason: str) -> TieringSettings:
    """Save edited settings with the reason as the history row's change reason. Runs already
    started keep the values of their rule book; the next run reads these."""
    settings._change_reason = change_reason_check(reason)
    settings._history_user = changed_by
    settings.save()
    return settings
