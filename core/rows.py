"""Batches of rows (API bodies, import files, admin forms): one envelope check and one error shape.

A batch is stored whole or not at all; a bad batch is refused with one DomainError listing every
bad row as {"index", "field", "message"}, whichever door it came in by.
"""

from django.utils.translation import gettext as _

from core.exceptions import DomainError


class RowErrors:
    """Problems found while checking a batch, raised together as `invalid_batch`."""

    def __init__(self):
        self.items: list[dict] = []

    def add(self, index: int, field_name: str, message) -> None:
        self.items.append({"index": index, "field": field_name, "message": str(message)})

    def raise_if_any(self) -> None:
        if self.items:
            self.items.sort(key=lambda error: error["index"])  # stable: per row, fields in check order
            raise DomainError(
                _("%(count)d row(s) are invalid; nothing was stored.") % {"count": len({e["index"] for e in self.items})},
                code="invalid_batch",
                fields={"rows": self.items},
            )


def rows_from_body(data, *, max_rows: int) -> list:
    """One object or a list of 1 to `max_rows` of them, as a list (the API's batch envelope)."""
    rows = [data] if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise DomainError(_("Send one object or a list of objects."), code="invalid", fields={"rows": []})
    if not rows:
        raise DomainError(_("The list is empty."), code="invalid", fields={"rows": []})
    if len(rows) > max_rows:
        raise DomainError(
            _("At most %(max)d rows per request; split the batch.") % {"max": max_rows},
            code="batch_too_large",
            fields={"rows": []},
        )
    return rows


def rows_check(rows, *, fields: frozenset[str]) -> list[dict]:
    """A list of objects whose keys are all among `fields`; anything else is refused row by row."""
    if not isinstance(rows, list | tuple):
        raise DomainError(_("Rows must be a list of objects."), code="invalid_batch", fields={"rows": []})
    errors = RowErrors()
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.add(index, "__all__", _("Expected a JSON object."))
            continue
        for name in sorted(set(row) - fields):
            errors.add(index, name, _("Unknown field."))
    errors.raise_if_any()
    return list(rows)
