"""Downgrade letters sent: marked as sent by hand, or e-mailed to the customer's contact in the
customer's language; either closes the open "send the letter" task."""

import pytest
from django.core import mail

from core.exceptions import DomainError
from crm.tests.factories import CustomerFactory
from service.models import LetterDispatch, Task
from service.services.letters import letter_email, letter_mark_sent
from service.tests.factories import TaskFactory
from tiering.tests.factories import TierChangeFactory, tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def downgraded(manager, clock):
    """A customer moved from VIP to core by hand (no run), with an open letter task."""
    customer = CustomerFactory(
        account_manager=manager, tier=tier("core"), contact_email="buyer@customer.example", language="en"
    )
    change = TierChangeFactory(run=None, customer=customer, from_tier=tier("vip"), to_tier=tier("core"))
    TaskFactory(customer=customer, source=Task.Source.LETTER, title="Send the downgrade letter")
    customer.change = change
    return customer


def test_marking_the_letter_sent_records_it_and_closes_the_letter_task(downgraded, manager):
    dispatch = letter_mark_sent(customer=downgraded, user=manager)

    assert LetterDispatch.objects.get() == dispatch
    assert (dispatch.method, dispatch.change, dispatch.language, dispatch.sent_by, dispatch.email_to) == (
        "print",
        downgraded.change,
        "en",
        manager,
        "",
    )
    task = Task.objects.get()
    assert task.status == Task.Status.DONE and task.completed_by == manager


@pytest.mark.parametrize(("language", "tier_name"), [("en", "Core"), ("zh-hans", "核心客户")])
def test_the_letter_is_emailed_in_the_customers_language(downgraded, manager, language, tier_name):
    downgraded.language = language
    downgraded.save()

    dispatch = letter_email(customer=downgraded, user=manager)

    (message,) = mail.outbox
    assert message.to == ["buyer@customer.example"]
    assert tier_name in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'lang="{language}"' in html and downgraded.name in html
    assert downgraded.name in message.body and "<html" not in message.body  # a plain-text part too
    assert (dispatch.method, dispatch.email_to, dispatch.language) == ("email", "buyer@customer.example", language)
    assert Task.objects.get().status == Task.Status.DONE


def test_no_contact_email_is_refused_naming_contact_email(downgraded, manager):
    downgraded.contact_email = ""
    downgraded.save()

    with pytest.raises(DomainError) as refused:
        letter_email(customer=downgraded, user=manager)

    assert refused.value.code == "no_contact_email" and list(refused.value.fields) == ["contact_email"]
    assert not mail.outbox and not LetterDispatch.objects.exists()
    assert Task.objects.get().status == Task.Status.OPEN


def test_a_failed_send_records_nothing(downgraded, manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # nothing listens

    with pytest.raises(DomainError) as refused:
        letter_email(customer=downgraded, user=manager)

    assert refused.value.code == "email_failed" and "contact_email" in refused.value.fields
    assert not LetterDispatch.objects.exists() and Task.objects.get().status == Task.Status.OPEN


def test_no_downgrade_no_letter(manager, clock):
    customer = CustomerFactory(account_manager=manager, contact_email="buyer@customer.example")
    with pytest.raises(DomainError):
        letter_mark_sent(customer=customer, user=manager)
    assert not LetterDispatch.objects.exists()
