"""Customers: codes, create, update, and the bulk write of an import.

Every edit of a customer's scoring inputs announces itself through crm.signals, so the
tiering app re-evaluates the customer whichever door the change came in by. The same doors
(admin, API, imports, web) meet the same rules here: scoring inputs are changed only by tier
administrators, a potential rating changes only with a reason, and every edit is kept in the
customer's history with who made it and why.
"""

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
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
        "tax_id", "bank_account", "prospect_grade", "expected_close_on",
    }
)
# The editable fields a score or an early warning depends on: changing one re-evaluates the customer.
CUSTOMER_SCORING_INPUTS = frozenset(
    {"industry", "customer_type", "cooperation_since", "status", "potential_rating", "account_manager"}
)
# Scoring inputs that only tier administrators may change (crm.change_scoring_inputs): they move a
# customer between scoring profiles and tiers, or to another manager's book.
CUSTOMER_GOVERNED_FIELDS = frozenset({"industry", "customer_type", "cooperation_since", "account_manager"})
# A person other than a tier administrator changes these only with a written reason.
CUSTOMER_REASON_FIELDS = frozenset({"potential_rating"})
REASON_MAX_LENGTH = 500
IDS_PER_QUERY = 5000  # below every database's limit on query parameters


class CustomerChangeForbidden(DomainError):
    """A change the user may not make: the API answers 403, naming the fields."""

    status_code = 403

    def __init__(self, message: str, *, fields: dict):
        super().__init__(message, code="permission_denied", fields=fields)


def user_may_change_scoring_inputs(user) -> bool:
    """Superusers, and staff holding crm.change_scoring_inputs (the "Tier administrators" group)."""
    return bool(
        user
        and user.is_authenticated
        and (user.is_superuser or (user.is_staff and user.has_perm("crm.change_scoring_inputs")))
    )


def _field_label(name: str) -> str:
    return str(capfirst(Customer._meta.get_field(name).verbose_name))


def customer_changes_problems(*, changed: Iterable[str], changed_by, reason: str) -> tuple[dict, dict]:
    """Why `changed_by` may not make these changes, per field: (forbidden, invalid) messages.

    `changed_by` None is the system (a command run by an operator): no rule applies. The import
    reports the messages per row and column; customer_update raises them."""
    if changed_by is None:
        return {}, {}
    changed = set(changed)
    forbidden, invalid = {}, {}
    if not user_may_change_scoring_inputs(changed_by):
        for name in sorted(changed & CUSTOMER_GOVERNED_FIELDS):
            forbidden[name] = _("Only tier administrators may change %(field)s.") % {"field": _field_label(name)}
        if not (reason or "").strip():
            for name in sorted(changed & CUSTOMER_REASON_FIELDS):
                invalid[name] = _("Give a reason for changing %(field)s.") % {"field": _field_label(name)}
    if len((reason or "").strip()) > REASON_MAX_LENGTH:
        invalid["reason"] = _("The reason may have at most %(max)d characters.") % {"max": REASON_MAX_LENGTH}
    return forbidden, invalid


def customer_field_differs(customer: Customer, name: str, value) -> bool:
    """Whether writing `value` to field `name` would change what is stored (related rows by key)."""
    field = Customer._meta.get_field(name)
    if field.is_relation:
        return getattr(customer, field.attname) != getattr(value, "pk", value)
    current = getattr(customer, name)
    if field.null and value in ("", None) and current in ("", None):
        return False
    return current != value


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


def _history_note(customer: Customer, *, user, reason: str) -> None:
    """Who and why, for the history row simple-history writes on save."""
    customer._history_user = user
    customer._change_reason = (reason or "").strip() or None


def _history_baselines(customer_ids: list[int]) -> None:
    """Record customers as stored before their first tracked change (customers older than their
    history, or bulk-created), so every change on the customer page has a "before"."""
    for start in range(0, len(customer_ids), IDS_PER_QUERY):
        ids = customer_ids[start : start + IDS_PER_QUERY]
        with_history = set(Customer.history.filter(id__in=ids).values_list("id", flat=True).distinct())
        stored = list(Customer.objects.filter(pk__in=[pk for pk in ids if pk not in with_history]))
        for customer in stored:
            customer._history_date = customer.created_at
            customer._history_user = None  # not the person about to change it
        Customer.history.bulk_history_create(stored, default_change_reason=None)


@transaction.atomic
def customer_create(
    *, name: str, industry, customer_type: str, account_manager=None, created_by=None, reason: str = "", **fields
) -> Customer:
    """Create a customer with the next code of its industry for the current year (in TIME_ZONE)."""
    _fields_check(fields)
    industry = _industry_resolve(industry)
    customer = Customer(
        name=name, industry=industry, customer_type=customer_type, account_manager=account_manager, **fields
    )
    _customer_clean(customer)
    customer.code = customer_code_next(industry=industry, year=local_today().year)
    _history_note(customer, user=created_by, reason=reason)
    customer.save()
    logger.info("customer %s created by %s", customer.code, getattr(created_by, "pk", None))
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, changed_by, reason: str = "", **fields) -> Customer:
    """Change editable fields as `changed_by` (None: the system); the code never changes, even when
    the industry does. Values are compared with the stored row, not with `customer` (an admin form
    has set the new values on it already), so only real changes are checked, kept and announced."""
    _fields_check(fields)
    if "industry" in fields:
        fields["industry"] = _industry_resolve(fields["industry"])
    stored = Customer.objects.select_for_update().get(pk=customer.pk)
    changed = {name for name, value in fields.items() if customer_field_differs(stored, name, value)}
    forbidden, invalid = customer_changes_problems(changed=changed, changed_by=changed_by, reason=reason)
    if forbidden:
        raise CustomerChangeForbidden(
            _("You may not change %(fields)s.") % {"fields": ", ".join(_field_label(n) for n in forbidden)},
            fields={name: [message] for name, message in forbidden.items()},
        )
    if invalid:
        raise DomainError(
            _("Invalid customer."), code="invalid", fields={name: [message] for name, message in invalid.items()}
        )
    for name, value in fields.items():
        setattr(customer, name, value)
    _customer_clean(customer)
    if not changed:
        return customer
    _history_baselines([customer.pk])
    _history_note(customer, user=changed_by, reason=reason)
    customer.save()
    # A pipeline grade moves no score, but the service side starts a prospect's playbook on it.
    if changed & (CUSTOMER_SCORING_INPUTS | {"prospect_grade"}):
        customer_data_changed_send(customer_ids=[customer.pk], cause="customers")
    return customer


@transaction.atomic
def customers_bulk_save(
    *,
    new: list[Customer],
    changed: list[Customer],
    fields: list[str],
    changed_by=None,
    reason: str = "",
    scoring_inputs_changed: Iterable[int] | None = None,
) -> list[Customer]:
    """Store an import's validated customers: new ones with codes reserved per industry for the
    current year, changed ones with `fields` written, each with a history row naming `changed_by`
    and `reason`. The caller has checked the changes (customer_changes_problems) and passes only
    customers that really changed; `scoring_inputs_changed` names those to re-evaluate (default:
    every changed customer when `fields` holds a scoring input). Returns the new customers as stored."""
    reason = (reason or "").strip() or None
    year = local_today().year
    by_industry: dict[int, list[Customer]] = {}
    for customer in new:
        by_industry.setdefault(customer.industry_id, []).append(customer)
    for group in by_industry.values():
        codes = customer_codes_reserve(industry=group[0].industry, year=year, count=len(group))
        for customer, code in zip(group, codes, strict=True):
            customer.code = code
    created = Customer.objects.bulk_create(new, batch_size=1000)
    Customer.history.bulk_history_create(created, default_user=changed_by, default_change_reason=reason)
    if changed:
        _history_baselines([c.pk for c in changed])
        now = timezone.now()
        for customer in changed:
            customer.updated_at = now  # bulk_update does not apply auto_now
        Customer.objects.bulk_update(changed, [*fields, "updated_at"], batch_size=1000)
        Customer.history.bulk_history_create(
            changed, update=True, default_user=changed_by, default_change_reason=reason, default_date=now
        )
    if scoring_inputs_changed is None:
        scoring_inputs_changed = [c.pk for c in changed] if CUSTOMER_SCORING_INPUTS & set(fields) else []
    customer_data_changed_send(customer_ids=scoring_inputs_changed, cause="customers")
    return created


