"""Notices to account managers: the row and what is delivered of it (log line, optional email),
and acknowledgement."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from tiering.models import Notice, TierChange
from tiering.selectors import notices_visible_to

notice_logger = logging.getLogger("tiering.notices")
logger = logging.getLogger(__name__)


def notice_build(
    *,
    kind: str,
    customer_id: int,
    customer_code: str | None,
    recipient_id: int | None,
    payload: dict,
    dedupe_key: str = "",
    change: TierChange | None = None,
) -> tuple[Notice, dict]:
    """An unsaved notice row, and the plain dict delivered after commit (notices_deliver): kind,
    customer, recipient and the payload's keys, so delivery needs no row read back.

    A run's chunk writes its notices column-wise instead (services/changes.py), to the same shape."""
    notice = Notice(
        kind=kind,
        customer_id=customer_id,
        recipient_id=recipient_id,
        change=change,
        dedupe_key=dedupe_key,
        payload=payload,
    )
    delivery = {
        "kind": kind,
        "customer_id": customer_id,
        "customer_code": customer_code,
        "recipient_id": recipient_id,
        **payload,
    }
    return notice, delivery


def notice_line(notice: dict) -> str:
    """The structured log line of a notice: one JSON object."""
    return json.dumps({"event": "tier_notice", **notice}, ensure_ascii=False, separators=(",", ":"), default=str)


def notices_deliver(notices: list[dict]) -> None:
    """One structured log line per notice and, when enabled, one email to the recipient.

    `notices` are plain dicts (kind, customer_id, customer_code, recipient_id, payload...) so this
    can run after commit without reloading rows."""
    notices_log([notice_line(notice) for notice in notices])
    notices_email(notices)


def notices_log(lines: list[str]) -> None:
    """Log lines already serialised by notice_line (or built to the same shape)."""
    if not notice_logger.isEnabledFor(logging.INFO):
        return
    # Records made directly skip the logger's caller lookup, a third of the cost of a line; a
    # run logs one line per change.
    make, handle, name = notice_logger.makeRecord, notice_logger.handle, notice_logger.name
    for line in lines:
        handle(make(name, logging.INFO, __file__, 0, line, None, None))


def notices_email(notices: list[dict]) -> None:
    if not getattr(settings, "NOTICE_EMAILS_ENABLED", False) or not notices:
        return
    recipients = {
        user.pk: user
        for user in get_user_model().objects.filter(
            pk__in={n["recipient_id"] for n in notices if n.get("recipient_id")}
        )
    }
    messages = []
    for notice in notices:
        user = recipients.get(notice.get("recipient_id"))
        if not user or not user.email:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            context = {"notice": notice, "user": user}
            subject = render_to_string("tiering/email/notice_subject.txt", context).strip()
            body = render_to_string("tiering/email/notice_body.txt", context)
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # email is a courtesy; the notice itself is stored
        logger.warning("sending %d notice emails failed", len(messages), exc_info=True)


def notices_deliver_on_commit(notices: list[dict]) -> None:
    if notices:
        transaction.on_commit(lambda: notices_deliver(notices))


def notices_lines_deliver_on_commit(lines: list[str]) -> None:
    """After commit, log notices whose lines are built already (a run's); emails, when enabled,
    read their details back from the lines."""

    def deliver() -> None:
        notices_log(lines)
        if getattr(settings, "NOTICE_EMAILS_ENABLED", False):
            notices_email([{k: v for k, v in json.loads(line).items() if k != "event"} for line in lines])

    if lines:
        transaction.on_commit(deliver)


def notices_acknowledge(*, user, notice_ids) -> int:
    """Acknowledge open notices the user sees (selectors.notices_visible_to); returns how many."""
    if not isinstance(notice_ids, list | tuple | set):
        raise DomainError(_("A list of notice ids is required."), fields={"notice_ids": [_("A list is required.")]})
    try:
        ids = [int(i) for i in notice_ids]
    except (TypeError, ValueError):
        raise DomainError(
            _("Notice ids must be integers."), fields={"notice_ids": [_("Notice ids must be integers.")]}
        ) from None
    notices = notices_visible_to(user).filter(pk__in=ids, acknowledged_at__isnull=True)
    return notices.update(acknowledged_at=timezone.now(), acknowledged_by=user)
