"""CSV / XLSX imports of customers and orders, shared by the admin page and the manage.py commands.

Every bad row is reported with its line number in the file, the column as written in the file's
header and the reason. A file with any bad row is rejected whole unless the caller asks to
`skip_invalid`, in which case the good rows are stored and the bad ones are reported.

Orders go through `crm.services.orders_ingest` (the API's path); customers are validated with the
model's own validators and the service's list of editable fields, then created in one bulk write
with codes reserved through `crm.services.customer_codes_reserve`. A customer row that carries a
code updates the customer with that code instead (so a file imported twice, or exported, edited
and imported again, creates no duplicates).
"""

import csv
import datetime
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.access import user_sees_all_customers
from core.clock import local_today
from core.exceptions import DomainError
from crm.models import Customer, Industry
from crm.selectors import customers_visible_to
from crm.services import CUSTOMER_EDITABLE_FIELDS, customer_codes_reserve, orders_ingest

logger = logging.getLogger(__name__)

# Encodings tried in order when the caller does not name one: UTF-8 (with or without the BOM
# Excel writes) and GB18030, the superset of GBK that Chinese Excel exports use.
DEFAULT_ENCODINGS = ("utf-8-sig", "gb18030")
SENSITIVE_COLUMNS = frozenset({"tax_id", "bank_account"})


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 100_000))


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

ORDER_COLUMNS = {
    "customer": ("customer", "customer code", "客户编号", "客户代码"),
    "amount": ("amount", "金额", "订单金额"),
    "ordered_at": ("ordered_at", "ordered on", "date", "下单日期", "订单日期"),
    "source": ("source", "source system", "来源", "来源系统"),
    "external_ref": ("external_ref", "external reference", "order number", "外部单号", "订单号"),
}
ORDER_REQUIRED = tuple(ORDER_COLUMNS)

assert set(CUSTOMER_COLUMNS) <= CUSTOMER_EDITABLE_FIELDS, "imports may only set fields the service allows"


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        return _("line %(line)d, column %(column)s: %(message)s") % self.as_dict()


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        """One line for people: what was stored, what was left out."""
        parts = [_("%(count)d created") % {"count": self.created}]
        if self.updated:
            parts.append(_("%(count)d updated") % {"count": self.updated})
        if self.duplicates:
            parts.append(_("%(count)d already stored") % {"count": self.duplicates})
        if self.skipped:
            parts.append(_("%(count)d bad row(s) skipped") % {"count": self.skipped})
        return pgettext("list separator", ", ").join(parts)


@dataclass
class _Table:
    headers: list[str]  # as written in the file
    rows: list[tuple[int, dict[str, object]]]  # (line number, {header: value})


# --- reading files ----------------------------------------------------------------------------


def _file_error(message: str) -> DomainError:
    return DomainError(_("The file cannot be imported."), code="invalid_file", fields={"file": [message]})


def _decode(data: bytes, encoding: str | None) -> str:
    for candidate in (encoding,) if encoding else DEFAULT_ENCODINGS:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    if encoding:
        raise _file_error(_("The file is not valid %(encoding)s text.") % {"encoding": encoding})
    raise _file_error(_("The file is neither UTF-8 nor GBK text; save it as UTF-8 CSV or XLSX."))


def _read_csv(data: bytes, encoding: str | None) -> _Table:
    text = _decode(data, encoding)
    if "\x00" in text:
        raise _file_error(_("The file contains NUL bytes; it is not a CSV file."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        headers = next(reader)
    except StopIteration:
        raise _file_error(_("The file is empty.")) from None
    except csv.Error as exc:
        raise _file_error(_("The file is not valid CSV: %(error)s") % {"error": exc}) from None
    rows = []
    line = reader.line_num
    try:
        for values in reader:
            start, line = line + 1, reader.line_num
            if not any(str(v).strip() for v in values):
                continue
            if len(rows) >= max_rows():
                raise _file_error(_("The file has more than %(max)d rows; split it.") % {"max": max_rows()})
            rows.append((start, _row_dict(headers, values)))
    except csv.Error as exc:
        raise _file_error(_("Line %(line)d is not valid CSV: %(error)s") % {"line": line + 1, "error": exc}) from None
    return _Table(headers=[h.strip() for h in headers], rows=rows)


def _read_xlsx(data: bytes) -> _Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise _file_error(
            _("The file is not a readable XLSX workbook (%(error)s).") % {"error": type(exc).__name__}
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows_iter = sheet.iter_rows(values_only=True)
        headers = ["" if v is None else str(v) for v in next(rows_iter, ())]
        if not any(h.strip() for h in headers):
            raise _file_error(_("The file is empty."))
        rows = []
        for line, values in enumerate(rows_iter, start=2):
            if not any(v is not None and str(v).strip() for v in values):
                continue
            if len(rows) >= max_rows():
                raise _file_error(_("The file has more than %(max)d rows; split it.") % {"max": max_rows()})
            rows.append((line, _row_dict(headers, values)))
    finally:
        workbook.close()
    return _Table(headers=[h.strip() for h in headers], rows=rows)


def _row_dict(headers, values) -> dict:
    row = {}
    for index, header in enumerate(headers):
        value = values[index] if index < len(values) else None
        row[str(header).strip()] = value.strip() if isinstance(value, str) else value
    if len(values) > len(headers) and any(v not in (None, "") for v in values[len(headers) :]):
        row[None] = values[len(headers) :]  # cells beyond the header: reported as an error
    return row


def read_table(data: bytes, *, filename: str, encoding: str | None = None) -> _Table:
    """CSV (UTF-8 or GBK) or XLSX, chosen by the file's content, falling back on its name."""
    if data[:4] == b"PK\x03\x04" or Path(filename).suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(data)
    return _read_csv(data, encoding)


def _columns_map(headers: list[str], aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> dict:
    """{field name: header in the file}; unknown, repeated and missing columns reject the file."""
    lookup = {alias.casefold(): name for name, names in aliases.items() for alias in names}
    mapping: dict[str, str] = {}
    problems = []
    for header in headers:
        if not header:
            continue
        name = lookup.get(header.casefold())
        if name is None:
            problems.append(_("Unknown column %(column)r.") % {"column": header})
        elif name in mapping:
            problems.append(
                _("Columns %(a)r and %(b)r both mean %(field)s.") % {"a": mapping[name], "b": header, "field": name}
            )
        else:
            mapping[name] = header
    missing = [name for name in required if name not in mapping]
    if missing:
        problems.append(_("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)})
    if problems:
        raise DomainError(_("The file's columns are not right."), code="invalid_file", fields={"columns": problems})
    return mapping


def _reject_or_report(report: ImportReport, *, skip_invalid: bool) -> None:
    if report.errors and not skip_invalid:
        lines = len({e.line for e in report.errors})
        raise DomainError(
            _("%(count)d row(s) are invalid; nothing was imported.") % {"count": lines},
            code="invalid_import",
            fields={"rows": [e.as_dict() for e in sorted(report.errors, key=lambda e: (e.line, e.column))]},
        )
    report.errors.sort(key=lambda e: (e.line, e.column))


# --- customers --------------------------------------------------------------------------------


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date) or value in (None, ""):
        return value or None
    text = str(value).strip().replace("/", "-")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("%(value)r is not a date (YYYY-MM-DD).") % {"value": value}) from None


def _as_int(value):
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationError(_("%(value)r is not a whole number.") % {"value": value}) from None


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store long digit strings (phones, accounts) as numbers
    return str(value).strip()


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
    columns = _columns_map(
        table.headers, {**CUSTOMER_COLUMNS, **CUSTOMER_KEY_COLUMN}, () if with_codes else CUSTOMER_REQUIRED
    )
    # With codes, a file may carry only the columns to update; a row without a code still needs these.
    missing_for_new = [name for name in CUSTOMER_REQUIRED if name not in columns]
    report = ImportReport()

    industries = {i.code: i for i in Industry.objects.all()}
    usernames = (
        {_as_text(row.get(columns["account_manager"])) for _line, row in table.rows} - {""}
        if "account_manager" in columns
        else set()
    )
    managers = {u.get_username(): u for u in get_user_model().objects.filter(username__in=usernames, is_active=True)}
    existing = _customers_by_code(table, columns, user)
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
                    values[name] = _as_date(raw)
                elif name == "potential_rating":
                    values[name] = _as_int(raw)
                elif name in _CHOICE_FIELDS:
                    values[name] = _as_text(raw).lower()
                else:
                    values[name] = _as_text(raw)
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

    _reject_or_report(report, skip_invalid=skip_invalid)
    if not new and not changed:
        return report
    year = local_today().year
    with transaction.atomic():
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
            written = [name for name in CUSTOMER_COLUMNS if name in columns]
            if restricted and "account_manager" not in written:
                written.append("account_manager")
            Customer.objects.bulk_update(changed, [*written, "updated_at"], batch_size=1000)
    report.created = len(created)
    report.updated = len(changed)
    report.customer_ids = [c.pk for c in [*created, *changed] if c.pk is not None]
    logger.info(
        "customer import by user %s: %d created, %d updated", getattr(user, "pk", None), report.created, report.updated
    )
    return report


def _customers_by_code(table: _Table, columns: dict, user) -> dict[str, Customer]:
    """The customers the file's codes name, among those `user` may see (all without a user)."""
    if "code" not in columns:
        return {}
    codes = sorted({_as_text(row.get(columns["code"])) for _line, row in table.rows} - {""})
    customers = customers_visible_to(user) if user is not None else Customer.objects.all()
    found: dict[str, Customer] = {}
    for start in range(0, len(codes), _CODES_PER_QUERY):
        found.update((c.code, c) for c in customers.filter(code__in=codes[start : start + _CODES_PER_QUERY]))
    return found


_CODES_PER_QUERY = 5000  # below every database's limit on query parameters


# --- orders -----------------------------------------------------------------------------------


def orders_import(
    *, data: bytes, filename: str, user=None, skip_invalid: bool = False, encoding: str | None = None
) -> ImportReport:
    """Store orders through the API's ingest service; rows already stored count as duplicates.

    When `user` is given, only customers that user may see can receive orders: other codes are
    reported as unknown, so an import never reveals which codes exist.
    """
    table = read_table(data, filename=filename, encoding=encoding)
    columns = _columns_map(table.headers, ORDER_COLUMNS, ORDER_REQUIRED)
    report = ImportReport()

    codes = {_as_text(row.get(columns["customer"])) for _line, row in table.rows} - {""}
    visible = Customer.objects.all() if user is None else customers_visible_to(user)
    customers = {c.code: c for c in visible.filter(code__in=codes).only("id", "code")}

    lines: list[int] = []
    rows: list[dict] = []
    row_codes: list[str] = []
    hidden: set[int] = set()  # rows naming a customer the user may not see (or that does not exist)
    for line, row in table.rows:
        if None in row:
            report.errors.append(RowError(line, "", _("This row has more cells than the header.")))
            continue
        code = _as_text(row.get(columns["customer"]))
        if code and code not in customers:
            hidden.add(len(rows))
        amount = row.get(columns["amount"])
        row_codes.append(code)
        lines.append(line)
        rows.append(
            {
                "customer": customers.get(code),
                "amount": str(amount) if isinstance(amount, float) else amount,
                "ordered_at": row.get(columns["ordered_at"]),
                "source": _as_text(row.get(columns["source"])),
                "external_ref": _as_text(row.get(columns["external_ref"])),
            }
        )

    outcome = None
    with transaction.atomic():
        try:
            outcome = orders_ingest(rows=rows)
        except DomainError as exc:
            if exc.code != "invalid_batch":
                raise
            for item in exc.fields.get("rows", []):
                index, name = item["index"], item["field"]
                message = item["message"]
                if name == "customer" and index in hidden:
                    message = _("Unknown customer code %(code)r.") % {"code": row_codes[index]}
                report.errors.append(RowError(lines[index], columns.get(name, name), str(message)))
        if report.errors and outcome is not None and not skip_invalid:
            transaction.set_rollback(True)  # only shape errors: the service stored the rest; undo it
            outcome = None
    bad_lines = {e.line for e in report.errors}
    report.skipped = len(bad_lines)
    _reject_or_report(report, skip_invalid=skip_invalid)
    if outcome is None:
        good = [row for line, row in zip(lines, rows, strict=True) if line not in bad_lines]
        if not good:
            return report
        outcome = orders_ingest(rows=good)
    report.created, report.duplicates, report.customer_ids = outcome.created, outcome.duplicates, outcome.customer_ids
    logger.info(
        "order import by user %s: %d created, %d duplicates, %d rows skipped",
        getattr(user, "pk", None),
        report.created,
        report.duplicates,
        report.skipped,
    )
    _reevaluate(outcome.customer_ids)
    return report


def _reevaluate(customer_ids: list[int]) -> None:
    """New orders may trip an early-warning trigger; the tiering app decides (and never fails us)."""
    if not customer_ids:
        return
    try:
        from tiering.services import customers_reevaluate_enqueue
    except ImportError:
        return
    try:
        customers_reevaluate_enqueue(customer_ids=customer_ids)
    except Exception:
        logger.exception("early-warning re-evaluation not enqueued; the next sweep picks it up")
