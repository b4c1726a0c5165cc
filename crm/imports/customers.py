"""Customer imports: a row without a code creates a customer (code generated per industry for
the current year); a row with a code updates that customer with the file's columns, so a file
imported twice, or exported, edited and imported again, creates no duplicates.

The columns are those of crm.columns, the table the exports use too: a computed column of an
export (tier, score, spend...) is listed as ignored, not refused. Changes go through the rules of
crm.services (scoring inputs only by tier administrators, a potential rating only with a reason),
reported per row and column like any bad cell.
"""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.access import user_sees_all_customers
from core.exceptions import DomainError
from crm.columns import CUSTOMER_FILE_COLUMNS, Kind
from crm.imports.files import (
    ImportReport,
    RowError,
    as_date,
    as_int,
    as_text,
    column_aliases,
    columns_map,
    read_table,
    reject_or_report,
)
from crm.models import Customer, Industry
from crm.selectors import customers_by_code
from crm.services import (
    CUSTOMER_EDITABLE_FIELDS,
    CUSTOMER_SCORING_INPUTS,
    customer_changes_problems,
    customer_field_differs,
    customers_bulk_save,
)

logger = logging.getLogger(__name__)

# {field name: headers accepted for it}: the field name, its label in each language, older aliases.
CUSTOMER_COLUMNS = column_aliases(c for c in CUSTOMER_FILE_COLUMNS if c.kind == Kind.EDITABLE)
CUSTOMER_REQUIRED = tuple(c.name for c in CUSTOMER_FILE_COLUMNS if c.required)
# Optional: a row with a code updates that customer; a row without one creates a customer.
CUSTOMER_KEY_COLUMN = column_aliases(c for c in CUSTOMER_FILE_COLUMNS if c.kind == Kind.KEY)
CUSTOMER_COMPUTED_COLUMNS = column_aliases(c for c in CUSTOMER_FILE_COLUMNS if c.kind == Kind.COMPUTED)

assert set(CUSTOMER_COLUMNS) <= CUSTOMER_EDITABLE_FIELDS, "imports may only set fields the service allows"

_CHOICES = {c.name: c.choice_values() for c in CUSTOMER_FILE_COLUMNS if c.choices}
_KEEP_WHEN_EMPTY = {"status", "language"}  # required by the model: an empty cell keeps the stored value


def _industries() -> dict[str, Industry]:
    """Industries by code and by name in either language (exports print the name), casefolded."""
    found: dict[str, Industry] = {}
    for industry in Industry.objects.all():
        for key in (industry.code, industry.name_zh, industry.name_en):
            found.setdefault(key.casefold(), industry)
    return found


def _value(name: str, raw):
    if name == "cooperation_since":
        return as_date(raw)
    if name == "potential_rating":
        return as_int(raw)
    if name in _CHOICES:
        text = as_text(raw)
        value = _CHOICES[name].get(text.casefold())
        if text and value is None:
            raise ValidationError(
                _("%(value)r is not one of %(choices)s.")
                % {"value": text, "choices": ", ".join(sorted(str(v) for v in set(_CHOICES[name].values())))}
            )
        return value or ""
    return as_text(raw)


def customers_import(
    *,
    data: bytes,
    filename: str,
    user=None,
    skip_invalid: bool = False,
    encoding: str | None = None,
    reason: str = "",
) -> ImportReport:
    """Create customers from a file (codes generated per industry for the current year), or update
    the customer a row's code names: the file's columns are written as they are, blank cells
    included; columns the file does not have stay as they were. `user` (None: the system) is who
    makes the changes, and `reason` why: both are kept in each changed customer's history."""
    _forbidden, invalid = customer_changes_problems(changed=(), changed_by=user, reason=reason)
    if invalid:
        raise DomainError(_("Invalid import."), code="invalid", fields={n: [m] for n, m in invalid.items()})
    table = read_table(data, filename=filename, encoding=encoding)
    code_headers = {alias.casefold() for alias in CUSTOMER_KEY_COLUMN["code"]}
    with_codes = any(header and header.casefold() in code_headers for header in table.headers)
    # Without a code column every row creates a customer, so the columns a new customer needs are required.
    columns = columns_map(
        table.headers,
        {**CUSTOMER_COLUMNS, **CUSTOMER_KEY_COLUMN, **CUSTOMER_COMPUTED_COLUMNS},
        () if with_codes else CUSTOMER_REQUIRED,
    )
    report = ImportReport()
    report.ignored_columns = [header for name, header in columns.items() if name in CUSTOMER_COMPUTED_COLUMNS]
    columns = {name: header for name, header in columns.items() if name not in CUSTOMER_COMPUTED_COLUMNS}
    # With codes, a file may carry only the columns to update; a row without a code still needs these.
    missing_for_new = [name for name in CUSTOMER_REQUIRED if name not in columns]

    industries = _industries()
    usernames = (
        {as_text(row.get(columns["account_manager"])) for _line, row in table.rows} - {""}
        if "account_manager" in columns
        else set()
    )
    # Inactive users too: keeping a customer with a manager who left is no change; assigning one is refused.
    managers = {u.get_username(): u for u in get_user_model().objects.filter(username__in=usernames)}
    existing = (
        customers_by_code((as_text(row.get(columns["code"])) for _line, row in table.rows), user=user)
        if "code" in columns
        else {}
    )
    may_change = user is None or user.has_perm("crm.change_customer")
    codes_seen: set[str] = set()

    restricted = user is not None and not user_sees_all_customers(user)
    new: list[Customer] = []
    changed: list[Customer] = []
    reevaluate: list[Customer] = []
    for line, row in table.rows:
        errors_before = len(report.errors)

        def error(name: str, message, _line=line) -> None:
            report.errors.append(RowError(_line, columns.get(name, name), str(message)))

        if None in row:
            error("", _("This row has more cells than the header."))
        values: dict[str, object] = {}
        unreadable: list[str] = []  # reported once: the model's own check of the field would repeat it
        for name, header in columns.items():
            try:
                values[name] = _value(name, row.get(header))
            except ValidationError as exc:
                error(name, exc.messages[0])
                unreadable.append(name)
        code = str(values.pop("code", ""))
        customer = None
        if code in codes_seen:  # one row per customer: the first one stands, the others are errors
            error("code", _("Customer %(code)r appears on more than one row.") % {"code": code})
        elif code and not may_change:
            error("code", _("You may not change customers; leave the code empty to create one."))
        elif code:
            customer = existing.get(code)
            if customer is None:  # also another manager's customer: an import never reveals which codes exist
                error("code", _("Unknown customer code %(code)r.") % {"code": code})
            codes_seen.add(code)
        elif missing_for_new:
            error(
                "code",
                _("Without a code this row would create a customer, which needs the column(s) %(columns)s.")
                % {"columns": ", ".join(missing_for_new)},
            )
        industry_text = str(values.pop("industry", ""))
        industry = industries.get(industry_text.casefold()) if industry_text else None
        if "industry" in columns and industry is None:
            error("industry", _("Unknown industry code %(code)r.") % {"code": industry_text})
        manager_name = values.pop("account_manager", "")
        manager = managers.get(manager_name) if manager_name else None
        if manager_name and manager is None:
            error("account_manager", _("No active user %(name)r.") % {"name": manager_name})
        if restricted and manager not in (None, user):
            error("account_manager", _("You may only import customers you manage yourself."))
        elif restricted:
            manager = user  # an account manager importing customers owns them
        for name in _KEEP_WHEN_EMPTY:
            if name in values and not values[name]:
                values.pop(name)
        if industry is not None:
            values["industry"] = industry
        if "account_manager" in columns or restricted:
            values["account_manager"] = manager
        if customer is None:  # a new customer, or a row already in error
            customer = Customer(**values)
            differs: set[str] = set()
        else:
            differs = {name for name, value in values.items() if customer_field_differs(customer, name, value)}
            if manager is not None and "account_manager" in differs and not manager.is_active:
                error("account_manager", _("No active user %(name)r.") % {"name": manager_name})
            forbidden, invalid = customer_changes_problems(changed=differs, changed_by=user, reason=reason)
            for name, message in {**forbidden, **invalid}.items():
                error(name, message)
            for name in differs:
                setattr(customer, name, values[name])
        try:
            # The same field validators the service runs; a new customer's code is generated below.
            if code or not missing_for_new:  # else the file lacks the columns and the row is refused above
                customer.full_clean(
                    exclude=["code", "industry", "account_manager", *unreadable], validate_constraints=False
                )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    error(name, message)
        if len(report.errors) > errors_before:
            report.skipped += 1
        elif customer.pk is None:
            new.append(customer)
        elif differs:
            changed.append(customer)
            if differs & CUSTOMER_SCORING_INPUTS:
                reevaluate.append(customer)
        else:
            report.unchanged += 1

    reject_or_report(report, skip_invalid=skip_invalid)
    if not new and not changed:
        return report
    written = [c.name for c in CUSTOMER_FILE_COLUMNS if c.kind == Kind.EDITABLE and c.name in columns]
    if restricted and "account_manager" not in written:
        written.append("account_manager")
    created = customers_bulk_save(
        new=new,
        changed=changed,
        fields=written,
        changed_by=user,
        reason=reason,
        scoring_inputs_changed=[c.pk for c in reevaluate],
    )
    report.created = len(created)
    report.updated = len(changed)
    report.customer_ids = [c.pk for c in [*created, *changed] if c.pk is not None]
    logger.info(
        "customer import by user %s: %d created, %d updated, %d unchanged",
        getattr(user, "pk", None),
        report.created,
        report.updated,
        report.unchanged,
    )
    return report
