"""Reading import files (CSV in UTF-8 or GBK, or XLSX) into rows, mapping their columns, and
the row/column/reason report shared by the customer and order imports.

Every bad row is reported with its line number in the file, the column as written in the file's
header and the reason. A file with any bad row is rejected whole unless the caller asks to
`skip_invalid`, in which case the good rows are stored and the bad ones are reported.
"""

import csv
import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import load_workbook

from core.exceptions import DomainError
from crm.columns import FileColumn

# Encodings tried in order when the caller does not name one: UTF-8 (with or without the BOM
# Excel writes) and GB18030, the superset of GBK that Chinese Excel exports use.
DEFAULT_ENCODINGS = ("utf-8-sig", "gb18030")


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 100_000))



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
    unchanged: int = 0  # rows naming a customer whose record already says what the row says
    duplicates: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # computed columns of an export, as headed
    customer_ids: list[int] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        """One line for people: what was stored, what was left out."""
        parts = [_("%(count)d created") % {"count": self.created}]
        if self.updated:
            parts.append(_("%(count)d updated") % {"count": self.updated})
        if self.unchanged:
            parts.append(_("%(count)d unchanged") % {"count": self.unchanged})
        if self.duplicates:
            parts.append(_("%(count)d already stored") % {"count": self.duplicates})
        if self.skipped:
            parts.append(_("%(count)d bad row(s) skipped") % {"count": self.skipped})
        return pgettext("list separator", ", ").join(parts)

    def ignored_summary(self) -> str:
        """The computed columns left out, or "" when there were none."""
        if not self.ignored_columns:
            return ""
        return _("Computed columns ignored: %(columns)s.") % {
            "columns": pgettext("list separator", ", ").join(self.ignored_columns)
        }


@dataclass
class Table:
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


def _read_csv(data: bytes, encoding: str | None) -> Table:
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
    return Table(headers=[h.strip() for h in headers], rows=rows)


def _read_xlsx(data: bytes) -> Table:
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
    return Table(headers=[h.strip() for h in headers], rows=rows)


def _row_dict(headers, values) -> dict:
    row = {}
    for index, header in enumerate(headers):
        value = values[index] if index < len(values) else None
        row[str(header).strip()] = value.strip() if isinstance(value, str) else value
    if len(values) > len(headers) and any(v not in (None, "") for v in values[len(headers) :]):
        row[None] = values[len(headers) :]  # cells beyond the header: reported as an error
    return row


def read_table(data: bytes, *, filename: str, encoding: str | None = None) -> Table:
    """CSV (UTF-8 or GBK) or XLSX, chosen by the file's content, falling back on its name."""
    if data[:4] == b"PK\x03\x04" or Path(filename).suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(data)
    return _read_csv(data, encoding)


def column_aliases(columns: Iterable[FileColumn]) -> dict[str, set[str]]:
    """{field name: every header accepted for it} for columns_map."""
    return {column.name: column.headers() for column in columns}


def columns_map(headers: list[str], aliases: dict[str, Iterable[str]], required: tuple[str, ...]) -> dict:
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


def template_csv(columns: Iterable[FileColumn]) -> str:
    """An empty file with the header row in the active language, as spreadsheet programs read it."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([str(column.label) for column in columns])
    return "\ufeff" + buffer.getvalue()


def reject_or_report(report: ImportReport, *, skip_invalid: bool) -> None:
    if report.errors and not skip_invalid:
        lines = len({e.line for e in report.errors})
        raise DomainError(
            _("%(count)d row(s) are invalid; nothing was imported.") % {"count": lines},
            code="invalid_import",
            fields={"rows": [e.as_dict() for e in sorted(report.errors, key=lambda e: (e.line, e.column))]},
        )
    report.errors.sort(key=lambda e: (e.line, e.column))



def as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date) or value in (None, ""):
        return value or None
    text = str(value).strip().replace("/", "-")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("%(value)r is not a date (YYYY-MM-DD).") % {"value": value}) from None


def as_int(value):
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationError(_("%(value)r is not a whole number.") % {"value": value}) from None


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store long digit strings (phones, accounts) as numbers
    return str(value).strip()
