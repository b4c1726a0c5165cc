"""Customer imports: a row without a code creates a customer (code generated per industry for
the current year); a row with a code updates that customer with the file's columns, so a file
imported twice, or exported, edited and imported again, creates no duplicates."""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.access import user_sees_all_customers
from crm.imports.files import (
    ImportReport,
    RowError,
    as_date,
    as_int,
    as_text,
    columns_map,
    read_table,
    reject_or_report,
)
from crm.models import Customer, Industry
from crm.selectors import customers_by_code
from crm.services import CUSTOMER_EDITABLE_FIELDS, customers_bulk_save

logger = logging.getLogger(__name__)

# Header names accepted for each field: the field name itself, its English label and the Chinese
# headers of common spreadsheet exports.
CUSTOMER_COLUMNS = {
    "name": ("name", "customer name", "名称", "客户名称"),
    "industry": ("industry", "industry code", "行业", "行业代码"),
    "customer_type": ("customer_type", "customer type", "type", "客户类型", "类型"),
    "region": ("region", "地区", "区域"),
    "company_size": ("company_size", "company size", "规模", "企业规模"),
    "account_manager": ("account_manager", "account manager", "客户经理"),
    "cooperation_since": ("cooperation_since", "cooperating since", "合作开始日期", "合作起始日期"),
    "status": ("status", "状态"),
    "potential_rating": ("potential_rating", "potential rating", "潜力评分"),
    "language": ("language", "语言"),
    "contact_person": ("contact_person", "contact person", "联系人"),
    "contact_phone": ("contact_phone", "contact phone", "联系电话", "电话"),
    "contact_email": ("contact_email", "contact email", "email", "邮箱", "电子邮箱"),
    "tax_id": ("tax_id", "tax or id number", "tax id", "税号", "证件号", "统一社会信用代码"),
    "bank_account": ("bank_account", "bank account", "银行账号"),
}
CUSTOMER_REQUIRED = ("name", "industry", "customer_type")
# Optional: a row with a code updates that customer; a row without one creates a customer.
CUSTOMER_KEY_COLUMN = {"code": ("code", "customer code", "客户编号", "客户代码")}

assert set(CUSTOMER_COLUMNS) <= CUSTOMER_EDITABLE_FIELDS, "imports may only set fields the service allows"

_CHOICE_FIELDS = {"customer_type", "company_size", "status", "language"}


def customers_import(
    *, data: bytes, filename: str, user=None, skip_invalid: bool = False, encoding: str | None = None
) -> ImportReport:
    """Create customers from a file (codes generated per industry for the current year), or update
    the customer a row's code names: the file's columns are written as they are, blank cells
    included; columns the file does not have stay as they were."""
    table = read_table(data, filename=filename, encoding=encoding)
    code_headers = {alias.casefold() for alias in CUSTOMER_KEY_COLUMN["code"]}
    with_codes = any(header and header.casefold() in code_headers for header in table.headers)
    # Without a code column every row creates a customer, so the columns a new customer needs are required.
    columns = columns_map(
        table.headers, {**CUSTOMER_COLUMNS, **CUSTOMER_KEY_COLUMN}, () if with_codes else CUSTOMER_REQUIRED
    )
    # With codes, a file may carry only the columns to update; a row without a code still needs these.
    missing_for_new = [name for name in CUSTOMER_REQUIRED if name not in columns]
    report = ImportReport()

    industries = {i.code: i for i in Industry.objects.all()}
    usernames = (
        {as_text(row.get(columns["account_manager"])) for _line, row in table.rows} - {""}
        if "account_manager" in columns
        else set()
    )
    managers = {u.get_username(): u for u in get_user_model().objects.filter(username__in=usernames, is_active=True)}
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
    for line, row in table.rows:
        errors_before = len(report.errors)

        def error(name: str, message, _line=line) -> None:
            report.errors.append(RowError(_line, columns.get(name, name), str(message)))

        if None in row:
            error("", _("This row has more cells than the header."))
        values: dict[str, object] = {}
        for name, header in columns.items():
            raw = row.get(header)
            try:
                if name == "cooperation_since":
                    values[name] = as_date(raw)
                elif name == "potential_rating":
                    values[name] = as_int(raw)
                elif name in _CHOICE_FIELDS:
                    values[name] = as_text(raw).lower()
                else:
                    values[name] = as_text(raw)
            except ValidationError as exc:
                error(name, exc.messages[0])
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
        industry_code = str(values.pop("industry", "")).upper()
        industry = industries.get(industry_code)
        if "industry" in columns and industry is None:
            error("industry", _("Unknown industry code %(code)r.") % {"code": industry_code})
        manager_name = values.pop("account_manager", "")
        manager = managers.get(manager_name) if manager_name else None
        if manager_name and manager is None:
            error("account_manager", _("No active user %(name)r.") % {"name": manager_name})
        if restricted and manager not in (None, user):
            error("account_manager", _("You may only import customers you manage yourself."))
        elif restricted:
            manager = user  # an account manager importing customers owns them
        if "status" in values and not values["status"]:
            values.pop("status")
        if "language" in values and not values["language"]:
            values.pop("language")
        if customer is None:  # a new customer, or a row already in error
            customer = Customer(industry=industry, account_manager=manager, **values)
        else:
            for name, value in values.items():
                setattr(customer, name, value)
            if industry is not None:
                customer.industry = industry
            if "account_manager" in columns or restricted:
                customer.account_manager = manager
        try:
            # The same field validators the service runs; a new customer's code is generated below.
            if code or not missing_for_new:  # else the file lacks the columns and the row is refused above
                customer.full_clean(exclude=["code", "industry", "account_manager"], validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    error(name, message)
        if len(report.errors) > errors_before:
            report.skipped += 1
        elif customer.pk is None:
            new.append(customer)
        else:
            changed.append(customer)

    reject_or_report(report, skip_invalid=skip_invalid)
    if not new and not changed:
        return report
    written = [name for name in CUSTOMER_COLUMNS if name in columns]
    if restricted and "account_manager" not in written:
        written.append("account_manager")
    created = customers_bulk_save(new=new, changed=changed, fields=written)
    report.created = len(created)
    report.updated = len(changed)
    report.customer_ids = [c.pk for c in [*created, *changed] if c.pk is not None]
    logger.info(
        "customer import by user %s: %d created, %d updated", getattr(user, "pk", None), report.created, report.updated
    )
    return report
