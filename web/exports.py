"""CSV and XLSX exports of the customer list: the same columns as the page, streamed in chunks.

Rows come from `.values_list().iterator(chunk_size=...)`, so memory stays flat on 100,000 customers.
Sensitive fields (tax IDs, bank accounts) are not columns at all. Headers are the labels of
crm.columns, which the customer import reads too: an exported file imports back, its computed
columns (tier, score, spend...) listed as ignored. Each figure comes with the date it is from:
the tier run of score and tier, the day spend and last order were computed for.
"""

import csv
import datetime
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.columns import customer_column
from crm.models import Customer
from crm.selectors import customers_with_tier_run, tier_run_refs
from web.flags import flag_label

CHUNK_SIZE = 2000
SCORE_FORMAT = "0.00"  # a score reads 93.50 in the spreadsheet too, as on the pages and in the CSV


@dataclass(frozen=True)
class Column:
    header: object
    fields: tuple[str, ...]  # values_list fields this column reads
    render: Callable[[dict], object]
    number_format: str | None = None  # how a spreadsheet shows the column's numbers


def _header(name: str):
    return customer_column(name).label


def _plain(header, field: str) -> Column:
    return Column(header, (field,), lambda row: row[field])


def figure_known(value, figures_as_of) -> bool:
    """Whether a stored spend is a figure at all: a customer never evaluated holds 0 without a date,
    which pages and exports leave empty instead of printing ¥0 beside its orders."""
    return figures_as_of is not None or bool(value)


def _score(header, field: str) -> Column:
    return Column(header, (field,), lambda row: row[field], number_format=SCORE_FORMAT)


def _figure(header, field: str) -> Column:
    return Column(
        header,
        (field, "figures_as_of"),
        lambda row: row[field] if figure_known(row[field], row["figures_as_of"]) else None,
    )


def _tier_run(header, runs: dict) -> Column:
    """ "2026-Q4 (2026-10-01)": the run that computed the row's score and tier."""
    return Column(header, ("tier_run_id",), lambda row: str(runs.get(row["tier_run_id"], "")))


def _localised(header, field_zh: str, field_en: str) -> Column:
    """Reads the English or Chinese name by the active language."""
    return Column(
        header,
        (field_zh, field_en),
        lambda row: row[field_en] if (get_language() or "").startswith("en") else row[field_zh],
    )


def _choice(header, field: str, choices) -> Column:
    labels = dict(choices)
    return Column(header, (field,), lambda row: str(labels.get(row[field], row[field] or "")))


def _flags(header, field: str) -> Column:
    return Column(header, (field,), lambda row: "; ".join(flag_label(flag) for flag in (row[field] or [])))


def customer_columns(*, with_account_manager: bool) -> list[Column]:
    """The list page's columns, in its order. Managers do not get the manager column: it is always them."""
    columns = [
        _plain(_header("code"), "code"),
        _plain(_header("name"), "name"),
        _localised(_header("tier"), "tier__name_zh", "tier__name_en"),
        _score(_header("score"), "score"),
        _tier_run(_header("tier_run"), tier_run_refs()),
        _localised(_header("industry"), "industry__name_zh", "industry__name_en"),
        _choice(_header("customer_type"), "customer_type", Customer.CustomerType.choices),
        _plain(_header("region"), "region"),
        _choice(_header("lifecycle"), "lifecycle", Customer.Lifecycle.choices),
        _figure(_header("spend_12m"), "spend_12m"),
        _plain(_header("last_order_at"), "last_order_at"),
        _plain(_header("figures_as_of"), "figures_as_of"),
        _flags(_header("flags"), "flags"),
    ]
    if with_account_manager:
        columns.insert(9, _plain(_header("account_manager"), "account_manager__username"))
    return columns


def _rows(customers: QuerySet, columns: list[Column]) -> Iterator[list]:
    fields = list(dict.fromkeys(field for column in columns for field in column.fields))
    if "tier_run_id" in fields:
        customers = customers_with_tier_run(customers)
    for values in customers.values_list(*fields).iterator(chunk_size=CHUNK_SIZE):
        row = dict(zip(fields, values, strict=True))
        yield [column.render(row) for column in columns]


def export_filename(extension: str) -> str:
    return f"customers-{timezone.localdate():%Y%m%d}.{extension}"


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value):
        return value


def _csv_lines(customers: QuerySet, columns: list[Column]) -> Iterable[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # byte-order mark: spreadsheet programs then read the Chinese text correctly
    yield writer.writerow([str(column.header) for column in columns])
    for row in _rows(customers, columns):
        yield writer.writerow(["" if value is None else value for value in row])


def customers_csv_response(customers: QuerySet, columns: list[Column]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(customers, columns), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename("csv")}"'
    return response


def customers_xlsx_response(customers: QuerySet, columns: list[Column]) -> FileResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Customers"))[:31])
    sheet.append([str(column.header) for column in columns])
    for row in _rows(customers, columns):
        sheet.append(
            [
                _xlsx_cell(WriteOnlyCell, sheet, value, column.number_format)
                for value, column in zip(row, columns, strict=True)
            ]
        )
    # Spools to disk past 16 MB, so a 100,000-row workbook does not sit in memory.
    buffer = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    workbook.save(buffer)
    buffer.seek(0)
    return FileResponse(
        buffer,
        as_attachment=True,
        filename=export_filename("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _xlsx_cell(cell_class, sheet, value, number_format: str | None):
    """The value, or a cell carrying its number format (openpyxl's WriteOnlyCell, imported with it)."""
    value = _xlsx_value(value)
    if number_format is None or value is None:
        return value
    cell = cell_class(sheet, value=value)
    cell.number_format = number_format
    return cell


def _xlsx_value(value):
    if value is None or isinstance(value, int | float | str | datetime.date):
        return value
    return float(value)  # Decimal scores and amounts stay numbers in the spreadsheet
