"""Downgrade letters sent: marked as sent (printed, posted, handed over) or e-mailed from here.

The letter itself comes from tiering.letters (built from what was stored at the downgrade); this
records that it went out, so the timeline shows it and the next step is done.
"""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from crm.models import Customer
from service.models import LetterDispatch, Task
from tiering import letters


def _letter_tasks_done(customer: Customer, user) -> None:
    """An open 'send the letter' task of this customer is done once a letter went out."""
    Task.objects.filter(customer=customer, source=Task.Source.LETTER, status=Task.Status.OPEN).update(
        status=Task.Status.DONE, completed_at=timezone.now(), completed_by=user, updated_at=timezone.now()
    )


@transaction.atomic
def letter_mark_sent(*, customer: Customer, user) -> LetterDispatch:
    """Record that the letter for the customer's latest downgrade was printed or sent by hand."""
    letter = letters.downgrade_letter(customer)
    dispatch = LetterDispatch.objects.create(
        customer=customer,
        change=letter.change,
        method=LetterDispatch.Method.PRINT,
        language=letter.language,
        sent_by=user,
    )
    _letter_tasks_done(customer, user)
    return dispatch


@transaction.atomic
def letter_email(*, customer: Customer, user) -> LetterDispatch:
    """E-mail the letter to the customer's contact, in the customer's language."""
    if not customer.contact_email:
        raise DomainError(
            _("This customer has no contact e-mail address."),
            code="no_contact_email",
            fields={"contact_email": [_("Add the contact's e-mail address on the customer record first.")]},
        )
    letter = letters.downgrade_letter(customer)
    html = letters.downgrade_letter_html(customer)
    with translation.override(letter.language):
        subject = _("Your customer level: %(tier)s") % {"tier": letter.to_tier.name}
    message = EmailMultiAlternatives(subject=subject, body=strip_tags(html), to=[customer.contact_email])
    message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP refused, unreachable...: nothing is recorded as sent
        raise DomainError(
            _("The letter could not be e-mailed: %(error)s") % {"error": exc},
            code="email_failed",
            fields={"contact_email": [customer.contact_email]},
        ) from exc
    dispatch = LetterDispatch.objects.create(
        customer=customer,
        change=letter.change,
        method=LetterDispatch.Method.EMAIL,
        email_to=customer.contact_email,
        language=letter.language,
        sent_by=user,
    )
    _letter_tasks_done(customer, user)
    return dispatch
