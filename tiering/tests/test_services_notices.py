import datetime
import json
import logging

from django.core import mail

from tiering.tests.conftest import AS_OF, run_now

LATER = datetime.date(2027, 7, 1)


def test_downgrade_notice_is_logged_and_emailed_when_enabled(
    strong, manager, settings, caplog, django_capture_on_commit_callbacks
):
    settings.NOTICE_EMAILS_ENABLED = True
    settings.LANGUAGE_CODE = "en"
    run_now(AS_OF)
    caplog.set_level(logging.INFO, logger="tiering.notices")
    with django_capture_on_commit_callbacks(execute=True):
        run_now(LATER)
    line = json.loads(next(r.getMessage() for r in caplog.records if r.name == "tiering.notices"))
    assert line["event"] == "tier_notice" and line["kind"] == "downgrade" and line["customer_code"] == strong.code
    assert line["recipient_id"] == manager.pk and line["from"] == "vip"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [manager.email] and strong.code in message.subject and "vip" in message.body


def test_no_email_by_default(strong, django_capture_on_commit_callbacks):
    run_now(AS_OF)
    with django_capture_on_commit_callbacks(execute=True):
        run_now(LATER)
    assert mail.outbox == []
