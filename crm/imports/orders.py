"""Order imports: rows go through the API's ingest service (crm.services.orders_ingest), so the
checks, the idempotency on (source, external_ref) and the re-evaluation are the same."""

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from crm.columns import ORDER_FILE_COLUMNS
from crm.imports.files import (
    ImportReport,
    RowError,
    as_text,
    column_aliases,
    columns_map,
    read_table,
    reject_or_report,
)
from crm.services import orders_ingest

logger = logging.getLogger(__name__)

# {field name: headers accepted for it} (crm.columns: the field name, its label in each language, aliases).
ORDER_COLUMNS = column_aliases(ORDER_FILE_COLUMNS)
ORDER_REQUIRED = tuple(c.name for c in ORDER_FILE_COLUMNS if c.required)


# --- orders -----------------------------------------------------------------------------------


def orders_import(
    *, data: bytes, filename: str, user=None, skip_invalid: bool = False, encoding: str | None = None
) -> ImportReport:
    """Store orders through the API's ingest service; rows already stored count as duplicates.

    When `user` is given, only customers that user may see can receive orders: other codes are
    reported as unknown, so an import never reveals which codes exist.
    """
    table = read_table(data, filename=filename, encoding=encoding)
    columns = columns_map(table.headers, ORDER_COLUMNS, ORDER_REQUIRED)
    report = ImportReport()

    lines: list[int] = []
    rows: list[dict] = []
    for line, row in table.rows:
        if None in row:
            report.errors.append(RowError(line, "", _("This row has more cells than the header.")))
            continue
        amount = row.get(columns["amount"])
        lines.append(line)
        rows.append(
            {
                "customer": as_text(row.get(columns["customer"])) or None,
                "amount": str(amount) if isinstance(amount, float) else amount,
                "ordered_at": row.get(columns["ordered_at"]),
                "source": as_text(row.get(columns["source"])),
                "external_ref": as_text(row.get(columns["external_ref"])),
            }
        )

    outcome = None
    with transaction.atomic():
        try:
            outcome = orders_ingest(rows=rows, user=user)
        except DomainError as exc:
            if exc.code != "invalid_batch":
                raise
            for item in exc.fields.get("rows", []):
                index, name = item["index"], item["field"]
                report.errors.append(RowError(lines[index], columns.get(name, name), str(item["message"])))
        if report.errors and outcome is not None and not skip_invalid:
            transaction.set_rollback(True)  # only shape errors: the service stored the rest; undo it
            outcome = None
    bad_lines = {e.line for e in report.errors}
    report.skipped = len(bad_lines)
    reject_or_report(report, skip_invalid=skip_invalid)
    if outcome is None:
        good = [row for line, row in zip(lines, rows, strict=True) if line not in bad_lines]
        if not good:
            return report
        outcome = orders_ingest(rows=good, user=user)
    report.created, report.duplicates, report.customer_ids = outcome.created, outcome.duplicates, outcome.customer_ids
    logger.info(
        "order import by user %s: %d created, %d duplicates, %d rows skipped",
        getattr(user, "pk", None),
        report.created,
        report.duplicates,
        report.skipped,
    )
    return report
