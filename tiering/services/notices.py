"""Notices to account managers: delivery (log line, optional email) and acknowledgement."""

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

from crm.exceptions import DomainError
from crm.selectors import user_sees_all_customers
from tiering.models import Notice

notice_logger = logging.getLogger("tiering.notices")
logger = logging.getLogger(__name__)


def notices_deliver(notices: list[dict]) -> None:
    """One structured log line per notice and, when enabled, one email to the recipient.

    `notices` are plain dicts (kind, customer_id, customer_code, recipient_id, payload...) so this
    can run after commit without reloading rows."""
    for notice in notices:
        notice_logger.info(json.dumps({"event": "tier_notice", **notice}, ensure_ascii=False, default=str))
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


def notices_acknowledge(*, user, notice_ids) -> int:
    """Acknowledge the user's own open notices (admins any); returns how many were acknowledged."""
    if not isinstance(notice_ids, list | tuple | set):
        raise DomainError(_("A list of notice ids is required."), fields={"notice_ids": [_("A list is required.")]})
    try:
        ids = [int(i) for i in notice_ids]
    except (TypeError, ValueError):
        raise DomainError(
            _("Notice ids must be integers."), fields={"notice_ids": [_("Notice ids must be integers.")]}
        ) from None
    notices = Notice.objects.filter(pk__in=ids, acknowledged_at__isnull=True)
    if not user_sees_all_customers(user):
        notices = notices.filter(recipient=user)
    return notices.update(acknowledged_at=timezone.now(), acknowledged_by=user)
