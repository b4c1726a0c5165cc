import datetime
import json
import logging

from django.core import mail

from core.tests.clock import RUN_DAY
from tiering.models import Notice
from tiering.services.notices import notice_build, notices_email
from tiering.tests.conftest import run_now

LATER = datetime.date(2027, 7, 1)


def test_downgrade_notice_is_logged_and_emailed_when_enabled(
    strong, manager, settings, caplog, django_capture_on_commit_callbacks
):
    settings.NOTICE_EMAILS_ENABLED = True
    settings.LANGUAGE_CODE = "en"
    run_now(RUN_DAY)
    caplog.set_level(logging.INFO, logger="tiering.notices")
    with django_capture_on_commit_callbacks(execute=True):
        run_now(LATER)
    line = json.loads(next(r.getMessage() for r in caplog.records if r.name == "tiering.notices"))
    assert line["event"] == "tier_notice" and line["kind"] == "downgrade" and line["customer_code"] == strong.code
    assert line["recipient_id"] == manager.pk and line["from"] == "vip"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [manager.email] and strong.code in message.subject and "vip" in message.body


def test_the_emailed_score_reads_with_two_decimals_as_on_the_pages(manager, settings):
    """A run's payload keeps the score as a JSON number (78.5); the email prints 78.50, not 78.5."""
    settings.NOTICE_EMAILS_ENABLED = True
    settings.LANGUAGE_CODE = "en"
    notices_email(
        [
            {
                "kind": "downgrade",
                "customer_code": "EDU2026001",
                "recipient_id": manager.pk,
                "from": "vip",
                "to": "core",
                "score": 78.5,
                "reasons": [],
            }
        ]
    )
    assert "moved from tier vip to core (score 78.50)." in mail.outbox[0].body


def test_no_email_by_default(strong, django_capture_on_commit_callbacks):
    run_now(RUN_DAY)
    with django_capture_on_commit_callbacks(execute=True):
        run_now(LATER)
    assert mail.outbox == []


def test_a_notice_and_what_is_delivered_of_it_are_built_together(customer, manager):
    notice, delivery = notice_build(
        kind=Notice.Kind.EARLY_WARNING,
        customer_id=customer.pk,
        customer_code=customer.code,
        recipient_id=manager.pk,
        payload={"flag": "complaints", "score": 71.5},
        dedupe_key="complaints:2026-11-15",
    )
    assert notice.pk is None and notice.change is None
    assert (notice.kind, notice.customer_id, notice.recipient_id) == ("early_warning", customer.pk, manager.pk)
    assert notice.dedupe_key == "complaints:2026-11-15" and notice.payload == {"flag": "complaints", "score": 71.5}
    assert delivery == {
        "kind": "early_warning",
        "customer_id": customer.pk,
        "customer_code": customer.code,
        "recipient_id": manager.pk,
        "flag": "complaints",
        "score": 71.5,
    }
