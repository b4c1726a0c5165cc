"""Writes to customer records. Views, the API, imports, admin and commands all come through here.

Batch writers (orders, surveys, interactions) validate every row before storing anything, so a
caller either gets the whole batch stored or a DomainError that lists every bad row.
"""

import datetime
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import local_today
from core.exceptions import DomainError
from crm.models import Customer, CustomerCodeSequence, Industry, Interaction, Order, SatisfactionSurvey

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
    for name, value in fields.items():
        setattr(customer, name, value)
    _customer_clean(customer)
    customer.save()
    return customer


# --- batches: orders, surveys, interactions ---------------------------------------------------


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    customer_ids: list[int] = field(default_factory=list)
    # The stored rows, for surveys and interactions (orders skip duplicates, so they are not listed).
    objects: list = field(default_factory=list, repr=False)


class _RowErrors:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, index: int, field_name: str, message: str) -> None:
        self.items.append({"index": index, "field": field_name, "message": str(message)})

    def raise_if_any(self) -> None:
        if self.items:
            raise DomainError(
                _("%(count)d row(s) are invalid; nothing was stored.") % {"count": len({e["index"] for e in self.items})},
                code="invalid_batch",
                fields={"rows": self.items},
            )


def _customers_resolve(rows: list[dict], errors: _RowErrors) -> list[Customer | None]:
    """Map each row's customer (instance, or code) to a Customer with one query for all codes."""
    codes = {
        str(row.get("customer")).strip()
        for row in rows
        if isinstance(row.get("customer"), str) and str(row.get("customer")).strip()
    }
    by_code = {c.code: c for c in Customer.objects.filter(code__in=codes).only("id", "code")} if codes else {}
    resolved: list[Customer | None] = []
    for index, row in enumerate(rows):
        value = row.get("customer")
        if isinstance(value, Customer) and value.pk is not None:
            resolved.append(value)
            continue
        if isinstance(value, str) and value.strip():
            found = by_code.get(value.strip())
            if found is None:
                errors.add(index, "customer", _("Unknown customer code %(code)r.") % {"code": value.strip()})
            resolved.append(found)
            continue
        errors.add(index, "customer", _("A customer (object or code) is required."))
        resolved.append(None)
    return resolved


def _decimal_parse(value, *, index: int, field_name: str, errors: _RowErrors, places: int = 2) -> Decimal | None:
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        errors.add(index, field_name, _("A number is required."))
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add(index, field_name, _("%(value)r is not a number.") % {"value": value})
        return None
    if not number.is_finite():
        errors.add(index, field_name, _("%(value)r is not a number.") % {"value": value})
        return None
    if number.adjusted() < 15 and number != number.quantize(Decimal(1).scaleb(-places)):  # larger: "too large" below
        errors.add(index, field_name, _("At most %(places)d decimal places are allowed.") % {"places": places})
        return None
    return number


def _date_parse(value, *, index: int, field_name: str, errors: _RowErrors) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
        errors.add(index, field_name, _("%(value)r is not a date (YYYY-MM-DD).") % {"value": value})
        return None
    errors.add(index, field_name, _("A date (YYYY-MM-DD) is required."))
    return None


def _text_parse(value, *, index: int, field_name: str, errors: _RowErrors, max_length: int, required: bool) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors.add(index, field_name, _("This field is required."))
    elif len(text) > max_length:
        errors.add(index, field_name, _("At most %(max)d characters are allowed.") % {"max": max_length})
    return text


def _rows_check(rows) -> list[dict]:
    if not isinstance(rows, list | tuple) or not all(isinstance(row, dict) for row in rows):
        raise DomainError(_("Rows must be a list of objects."), code="invalid_batch", fields={"rows": []})
    return list(rows)


def orders_ingest(*, rows: list[dict]) -> IngestResult:
    """Store orders pushed by another system. An order already stored under the same
    (source, external_ref) is counted as a duplicate and left untouched, so pushing twice is safe."""
    rows = _rows_check(rows)
    errors = _RowErrors()
    customers = _customers_resolve(rows, errors)
    max_amount = Decimal("1e12")
    orders: list[Order] = []
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        amount = _decimal_parse(row.get("amount"), index=index, field_name="amount", errors=errors)
        if amount is not None and amount <= 0:
            errors.add(index, "amount", _("Amount must be greater than 0."))
        elif amount is not None and amount >= max_amount:
            errors.add(index, "amount", _("Amount is too large."))
        ordered_at = _date_parse(row.get("ordered_at"), index=index, field_name="ordered_at", errors=errors)
        source = _text_parse(row.get("source"), index=index, field_name="source", errors=errors, max_length=32,
                             required=True)
        ref = _text_parse(row.get("external_ref"), index=index, field_name="external_ref", errors=errors,
                          max_length=64, required=True)
        if source and ref:
            if (source, ref) in seen:
                errors.add(index, "external_ref", _("Duplicate of row %(other)d in this batch.")
                           % {"other": seen[(source, ref)]})
            else:
                seen[(source, ref)] = index
        orders.append(
            Order(customer=customers[index], amount=amount, ordered_at=ordered_at, source=source, external_ref=ref)
        )
    errors.raise_if_any()
    if not orders:
        return IngestResult()

    with transaction.atomic():
        existing = _order_keys_existing(list(seen))
        new_orders = [o for o in orders if (o.source, o.external_ref) not in existing]
        Order.objects.bulk_create(new_orders, batch_size=1000, ignore_conflicts=True)
    customer_ids = sorted({o.customer_id for o in new_orders})
    return IngestResult(created=len(new_orders), duplicates=len(orders) - len(new_orders), customer_ids=customer_ids)


def _order_keys_existing(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (source, external_ref) pairs are already stored, one query per source and chunk."""
    by_source: dict[str, list[str]] = {}
    for source, ref in keys:
        by_source.setdefault(source, []).append(ref)
    found: set[tuple[str, str]] = set()
    for source, refs in by_source.items():
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            found.update(
                Order.objects.filter(source=source, external_ref__in=chunk).values_list("source", "external_ref")
            )
    return found


def surveys_record(*, rows: list[dict]) -> IngestResult:
    """Store satisfaction surveys (score 1-5) for customers, all or nothing."""
    rows = _rows_check(rows)
    errors = _RowErrors()
    customers = _customers_resolve(rows, errors)
    surveys: list[SatisfactionSurvey] = []
    for index, row in enumerate(rows):
        score = _decimal_parse(row.get("score"), index=index, field_name="score", errors=errors)
        if score is not None and not (Decimal(1) <= score <= Decimal(5)):
            errors.add(index, "score", _("Survey score must be between 1 and 5."))
        surveyed_at = _date_parse(row.get("surveyed_at"), index=index, field_name="surveyed_at", errors=errors)
        channel = _text_parse(row.get("channel"), index=index, field_name="channel", errors=errors, max_length=32,
                              required=False)
        surveys.append(
            SatisfactionSurvey(customer=customers[index], score=score, surveyed_at=surveyed_at, channel=channel)
        )
    errors.raise_if_any()
    with transaction.atomic():
        SatisfactionSurvey.objects.bulk_create(surveys, batch_size=1000)
    return IngestResult(created=len(surveys), customer_ids=sorted({s.customer_id for s in surveys}), objects=surveys)


def interactions_record(*, rows: list[dict], recorded_by=None) -> IngestResult:
    """Store visits, calls, complaints, referrals... for customers, all or nothing."""
    rows = _rows_check(rows)
    errors = _RowErrors()
    customers = _customers_resolve(rows, errors)
    kinds = set(Interaction.Kind.values)
    interactions: list[Interaction] = []
    for index, row in enumerate(rows):
        kind = str(row.get("kind") or "").strip()
        if kind not in kinds:
            errors.add(index, "kind", _("Unknown kind %(kind)r; expected one of %(kinds)s.")
                       % {"kind": kind, "kinds": ", ".join(sorted(kinds))})
        occurred_at = _date_parse(row.get("occurred_at"), index=index, field_name="occurred_at", errors=errors)
        note = _text_parse(row.get("note"), index=index, field_name="note", errors=errors, max_length=10000,
                           required=False)
        interactions.append(
            Interaction(customer=customers[index], kind=kind, occurred_at=occurred_at, note=note,
                        recorded_by=recorded_by)
        )
    errors.raise_if_any()
    with transaction.atomic():
        Interaction.objects.bulk_create(interactions, batch_size=1000)
    return IngestResult(
        created=len(interactions), customer_ids=sorted({i.customer_id for i in interactions}), objects=interactions
    )
