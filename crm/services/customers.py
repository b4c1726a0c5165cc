"""Customers: codes, create, update, and the bulk write of an import.

Every edit of a customer's scoring inputs announces itself through crm.signals, so the
tiering app re-evaluates the customer whichever door the change came in by.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import local_today
from core.exceptions import DomainError
from crm.models import Customer, CustomerCodeSequence, Industry
from crm.signals import customer_data_changed_send

logger = logging.getLogger(__name__)

# Fields a person (or another system) may set on a customer. Code is generated; tier, score,
# lifecycle, flags, spend and last order are written by tier runs only.
CUSTOMER_EDITABLE_FIELDS = frozenset(
    {
        "name", "industry", "customer_type", "region", "company_size", "account_manager", "cooperation_since",
        "status", "potential_rating", "language", "contact_person", "contact_phone", "contact_email",
        "tax_id", "bank_account",
    }
)
# The editable fields a score or an early warning depends on: changing one re-evaluates the customer.
CUSTOMER_SCORING_INPUTS = frozenset(
    {"industry", "customer_type", "cooperation_since", "status", "potential_rating", "account_manager"}
)


# --- customer codes ---------------------------------------------------------------------------


def _sequence_reserve(*, industry: Industry, year: int, count: int) -> int:
    """Reserve `count` numbers; returns the first. Row lock makes concurrent creators wait, never collide."""
    with transaction.atomic():
        CustomerCodeSequence.objects.get_or_create(industry=industry, year=year)
        sequence = CustomerCodeSequence.objects.select_for_update().get(industry=industry, year=year)
        first = sequence.last_value + 1
        sequence.last_value += count
        sequence.save(update_fields=["last_value"])
    return first


def customer_code_format(*, industry_code: str, year: int, number: int) -> str:
    return f"{industry_code}{year}{number:03d}"


def customer_code_next(*, industry: Industry, year: int) -> str:
    number = _sequence_reserve(industry=industry, year=year, count=1)
    return customer_code_format(industry_code=industry.code, year=year, number=number)


def customer_codes_reserve(*, industry: Industry, year: int, count: int) -> list[str]:
    """A block of codes for bulk creation (imports, demo data) in one locked update."""
    first = _sequence_reserve(industry=industry, year=year, count=count)
    return [customer_code_format(industry_code=industry.code, year=year, number=n) for n in range(first, first + count)]


# --- customers --------------------------------------------------------------------------------


def _industry_resolve(industry) -> Industry:
    if isinstance(industry, Industry):
        return industry
    code = str(industry or "").strip().upper()
    found = Industry.objects.filter(code=code).first() if code else None
    if found is None:
        raise DomainError(
            _("Invalid customer."),
            code="invalid",
            fields={"industry": [_("Unknown industry code %(code)r.") % {"code": str(industry or "")}]},
        )
    return found


def _fields_check(fields: dict) -> None:
    unknown = sorted(set(fields) - CUSTOMER_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("Invalid customer."),
            code="invalid",
            fields={name: [_("This field cannot be set here.")] for name in unknown},
        )


def _validation_to_domain(exc: ValidationError, message: str) -> DomainError:
    if hasattr(exc, "error_dict"):
        fields = {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
    else:
        fields = {"__all__": [str(m) for m in exc.messages]}
    return DomainError(message, code="invalid", fields=fields)


def _customer_clean(customer: Customer) -> None:
    try:
        customer.full_clean(exclude=["code"])
    except ValidationError as exc:
        raise _validation_to_domain(exc, _("Invalid customer.")) from None


@transaction.atomic
def customer_create(
    *, name: str, industry, customer_type: str, account_manager=None, created_by=None, **fields
) -> Customer:
    """Create a customer with the next code of its industry for the current year (in TIME_ZONE)."""
    _fields_check(fields)
    industry = _industry_resolve(industry)
    customer = Customer(
        name=name, industry=industry, customer_type=customer_type, account_manager=account_manager, **fields
    )
    _customer_clean(customer)
    customer.code = customer_code_next(industry=industry, year=local_today().year)
    customer.save()
    logger.info("customer %s created by %s", customer.code, getattr(created_by, "pk", None))
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, **fields) -> Customer:
    """Change editable fields; the code never changes, even when the industry does."""
    _fields_check(fields)
    if "industry" in fields:
        fields["industry"] = _industry_resolve(fields["industry"])
    before = {name: getattr(customer, name) for name in CUSTOMER_SCORING_INPUTS & set(fields)}
    for name, value in fields.items():
        setattr(customer, name, value)
    _customer_clean(customer)
    customer.save()
    if any(getattr(customer, name) != value for name, value in before.items()):
        customer_data_changed_send(customer_ids=[customer.pk], cause="customers")
    return customer


@transaction.atomic
def customers_bulk_save(*, new: list[Customer], changed: list[Customer], fields: list[str]) -> list[Customer]:
    """Store an import's validated customers: new ones with codes reserved per industry for the
    current year, changed ones with `fields` written. Returns the new customers as stored."""
    year = local_today().year
    by_industry: dict[int, list[Customer]] = {}
    for customer in new:
        by_industry.setdefault(customer.industry_id, []).append(customer)
    for group in by_industry.values():
        codes = customer_codes_reserve(industry=group[0].industry, year=year, count=len(group))
        for customer, code in zip(group, codes, strict=True):
            customer.code = code
    created = Customer.objects.bulk_create(new, batch_size=1000)
    if changed:
        now = timezone.now()
        for customer in changed:
            customer.updated_at = now  # bulk_update does not apply auto_now
        Customer.objects.bulk_update(changed, [*fields, "updated_at"], batch_size=1000)
    if CUSTOMER_SCORING_INPUTS & set(fields):
        customer_data_changed_send(customer_ids=[c.pk for c in changed], cause="customers")
    return created


