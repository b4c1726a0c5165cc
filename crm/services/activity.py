"""Orders, satisfaction surveys and interactions: stored in batches, all or nothing, and edited one by one.

Every row is checked before anything is stored, so a caller gets the whole batch stored or one
DomainError listing every bad row (core.rows). Customers are named by code among those the
caller may see (an unknown and an invisible code read the same), or passed as instances by
callers that looked them up already. Whatever is stored announces itself through crm.signals.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import local_today
from core.rows import RowErrors, rows_check
from crm.models import Customer, Interaction, Order, SatisfactionSurvey
from crm.selectors import customers_by_code
from crm.signals import customer_data_changed_send

ORDER_FIELDS = frozenset({"customer", "amount", "ordered_at", "source", "external_ref"})
SURVEY_FIELDS = frozenset({"customer", "score", "surveyed_at", "channel"})
INTERACTION_FIELDS = frozenset({"customer", "kind", "occurred_at", "note", "duration_minutes", "outcome"})
MAX_DURATION_MINUTES = 24 * 60
MAX_AMOUNT = Decimal("1e12")


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    customer_ids: list[int] = field(default_factory=list)
    # The stored rows, for surveys and interactions (orders skip duplicates, so they are not listed).
    objects: list = field(default_factory=list, repr=False)


# --- one row's fields -------------------------------------------------------------------------


def _customers_resolve(rows: list[dict], errors: RowErrors, user) -> list[Customer | None]:
    """Each row's customer: an instance as given, or the customer its code names among those
    `user` may see (all without a user), with one query for all codes."""
    by_code = customers_by_code([row.get("customer") for row in rows], user=user, only=("id", "code"))
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


def _decimal_parse(value, *, index: int, field_name: str, errors: RowErrors, places: int = 2) -> Decimal | None:
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


def _date_parse(value, *, index: int, field_name: str, errors: RowErrors) -> datetime.date | None:
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


def _text_parse(value, *, index: int, field_name: str, errors: RowErrors, max_length: int, required: bool) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors.add(index, field_name, _("This field is required."))
    elif len(text) > max_length:
        errors.add(index, field_name, _("At most %(max)d characters are allowed.") % {"max": max_length})
    return text


def _batch_start(rows, *, fields: frozenset[str], user) -> tuple[list[dict], RowErrors, list[Customer | None]]:
    """The rows checked for shape, an empty error list, and each row's customer."""
    rows = rows_check(rows, fields=fields)
    errors = RowErrors()
    return rows, errors, _customers_resolve(rows, errors, user)


def _batch_store(model, records: list, cause: str) -> IngestResult:
    """Store checked records in one transaction and announce them."""
    with transaction.atomic():
        model.objects.bulk_create(records, batch_size=1000)
        customer_ids = sorted({record.customer_id for record in records})
        customer_data_changed_send(customer_ids=customer_ids, cause=cause)
    return IngestResult(created=len(records), customer_ids=customer_ids, objects=records)


def _record_update(record, fields: dict, *, names: frozenset[str], clean, cause: str, derived: tuple[str, ...] = ()):
    """Write `fields` (or the values already set on `record`, as a ModelForm leaves them) after the
    checks a new row of its kind gets; both the old and the new customer are re-evaluated."""
    row = {name: getattr(record, name) for name in names}
    row.update(fields)
    (cleaned,) = clean([row])
    customer_before = type(record).objects.filter(pk=record.pk).values_list("customer_id", flat=True).first()
    for name in (*names, *derived):
        setattr(record, name, getattr(cleaned, name))
    record.save()
    customer_data_changed_send(customer_ids=[customer_before, record.customer_id], cause=cause)
    return record


# --- orders -----------------------------------------------------------------------------------


def _orders_clean(rows, user) -> list[Order]:
    """Unsaved orders for valid rows, or an `invalid_batch` error naming every bad row."""
    rows, errors, customers = _batch_start(rows, fields=ORDER_FIELDS, user=user)
    orders: list[Order] = []
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        amount = _decimal_parse(row.get("amount"), index=index, field_name="amount", errors=errors)
        if amount is not None and amount <= 0:
            errors.add(index, "amount", _("Amount must be greater than 0."))
        elif amount is not None and amount >= MAX_AMOUNT:
            errors.add(index, "amount", _("Amount is too large."))
        ordered_at = _date_parse(row.get("ordered_at"), index=index, field_name="ordered_at", errors=errors)
        source = _text_parse(
            row.get("source"), index=index, field_name="source", errors=errors, max_length=32, required=True
        )
        ref = _text_parse(
            row.get("external_ref"), index=index, field_name="external_ref", errors=errors, max_length=64, required=True
        )
        if source and ref:
            if (source, ref) in seen:
                errors.add(
                    index,
                    "external_ref",
                    _("Duplicate of row %(other)d in this batch.") % {"other": seen[(source, ref)]},
                )
            else:
                seen[(source, ref)] = index
        orders.append(
            Order(customer=customers[index], amount=amount, ordered_at=ordered_at, source=source, external_ref=ref)
        )
    errors.raise_if_any()
    return orders


def orders_ingest(*, rows: list[dict], user=None) -> IngestResult:
    """Store orders pushed by another system, an import or a person. An order already stored under
    the same (source, external_ref) is counted as a duplicate and left untouched, so pushing twice is safe."""
    orders = _orders_clean(rows, user)
    if not orders:
        return IngestResult()
    with transaction.atomic():
        existing = _order_keys_existing([(o.source, o.external_ref) for o in orders])
        new_orders = [o for o in orders if (o.source, o.external_ref) not in existing]
        Order.objects.bulk_create(new_orders, batch_size=1000, ignore_conflicts=True)
        customer_ids = sorted({o.customer_id for o in new_orders})
        prospects_convert(customer_ids)
        customer_data_changed_send(customer_ids=customer_ids, cause="orders")
    return IngestResult(created=len(new_orders), duplicates=len(orders) - len(new_orders), customer_ids=customer_ids)


def prospects_convert(customer_ids: list[int]) -> int:
    """A prospect's first order makes it a customer: its cooperation starts on its first order's
    date, so the next run or re-evaluation tiers it. One statement for the whole batch."""
    first_order = (
        Order.objects.filter(customer=OuterRef("pk"))
        .values("customer")
        .annotate(first=Min("ordered_at"))
        .values("first")
    )
    return Customer.objects.filter(id__in=customer_ids, cooperation_since__isnull=True).update(
        cooperation_since=Subquery(first_order[:1]), prospect_grade="", expected_close_on=None
    )


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


@transaction.atomic
def order_update(*, order: Order, **fields) -> Order:
    """Change a stored order with the checks of a new one (admin corrections); `order` may carry
    the new values already (a ModelForm's instance), `fields` overrides them."""
    order = _record_update(
        order, fields, names=ORDER_FIELDS, clean=lambda rows: _orders_clean(rows, None), cause="orders"
    )
    prospects_convert([order.customer_id])
    return order


# --- surveys ----------------------------------------------------------------------------------


def _surveys_clean(rows, user) -> list[SatisfactionSurvey]:
    rows, errors, customers = _batch_start(rows, fields=SURVEY_FIELDS, user=user)
    surveys: list[SatisfactionSurvey] = []
    for index, row in enumerate(rows):
        score = _decimal_parse(row.get("score"), index=index, field_name="score", errors=errors)
        if score is not None and not (Decimal(1) <= score <= Decimal(5)):
            errors.add(index, "score", _("Survey score must be between 1 and 5."))
        surveyed_at = _date_parse(row.get("surveyed_at"), index=index, field_name="surveyed_at", errors=errors)
        channel = _text_parse(
            row.get("channel"), index=index, field_name="channel", errors=errors, max_length=32, required=False
        )
        surveys.append(
            SatisfactionSurvey(customer=customers[index], score=score, surveyed_at=surveyed_at, channel=channel)
        )
    errors.raise_if_any()
    return surveys


def surveys_record(*, rows: list[dict], user=None) -> IngestResult:
    """Store satisfaction surveys (score 1-5) for customers, all or nothing."""
    return _batch_store(SatisfactionSurvey, _surveys_clean(rows, user), "surveys")


@transaction.atomic
def survey_update(*, survey: SatisfactionSurvey, **fields) -> SatisfactionSurvey:
    return _record_update(
        survey, fields, names=SURVEY_FIELDS, clean=lambda rows: _surveys_clean(rows, None), cause="surveys"
    )


# --- interactions -----------------------------------------------------------------------------


def _moment_parse(value, *, index: int, field_name: str, errors: RowErrors):
    """(date, aware datetime or None) of an activity: a date, or a date and time (ISO 8601) whose
    local date feeds the metrics. Neither may lie in the future: a future contact is a task."""
    moment = None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str) and "T" in value.strip():
        try:
            moment = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            errors.add(index, field_name, _("%(value)r is not a date or date and time (ISO 8601).") % {"value": value})
            return None, None
    if moment is not None:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        if moment > timezone.now() + datetime.timedelta(minutes=1):
            errors.add(index, field_name, _("An activity cannot lie in the future; plan a follow-up task instead."))
            return None, None
        return timezone.localtime(moment).date(), moment
    day = _date_parse(value, index=index, field_name=field_name, errors=errors)
    if day is not None and day > local_today():
        errors.add(index, field_name, _("An activity cannot lie in the future; plan a follow-up task instead."))
        return None, None
    return day, None


def _duration_parse(value, *, index: int, errors: RowErrors) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        errors.add(index, "duration_minutes", _("A whole number of minutes is required."))
        return None
    minutes = int(str(value).strip())
    if not 0 < minutes <= MAX_DURATION_MINUTES:
        errors.add(index, "duration_minutes", _("Between 1 and %(max)d minutes.") % {"max": MAX_DURATION_MINUTES})
        return None
    return minutes


def _interactions_clean(rows, user, recorded_by) -> list[Interaction]:
    rows, errors, customers = _batch_start(rows, fields=INTERACTION_FIELDS, user=user)
    kinds = set(Interaction.Kind.values)
    interactions: list[Interaction] = []
    for index, row in enumerate(rows):
        kind = str(row.get("kind") or "").strip()
        if kind not in kinds:
            errors.add(
                index,
                "kind",
                _("Unknown kind %(kind)r; expected one of %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(sorted(kinds))},
            )
        occurred_at, happened_at = _moment_parse(
            row.get("occurred_at"), index=index, field_name="occurred_at", errors=errors
        )
        note = _text_parse(
            row.get("note"), index=index, field_name="note", errors=errors, max_length=10000, required=False
        )
        outcome = _text_parse(
            row.get("outcome"), index=index, field_name="outcome", errors=errors, max_length=200, required=False
        )
        duration = _duration_parse(row.get("duration_minutes"), index=index, errors=errors)
        interactions.append(
            Interaction(
                customer=customers[index],
                kind=kind,
                occurred_at=occurred_at,
                happened_at=happened_at,
                note=note,
                outcome=outcome,
                duration_minutes=duration,
                recorded_by=recorded_by,
            )
        )
    errors.raise_if_any()
    return interactions


def interactions_record(*, rows: list[dict], recorded_by=None, user=None) -> IngestResult:
    """Store visits, calls, complaints, referrals... for customers, all or nothing."""
    return _batch_store(Interaction, _interactions_clean(rows, user, recorded_by), "interactions")


@transaction.atomic
def interaction_update(*, interaction: Interaction, **fields) -> Interaction:
    if "occurred_at" not in fields and interaction.happened_at is not None:
        fields["occurred_at"] = interaction.happened_at  # keep the time unless the date is being changed
    record = _record_update(
        interaction,
        fields,
        names=INTERACTION_FIELDS,
        clean=lambda rows: _interactions_clean(rows, None, interaction.recorded_by),
        cause="interactions",
        derived=("happened_at",),
    )
    return record
