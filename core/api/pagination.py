"""Cursor pagination: stable pages however many rows arrive while a client pages through."""

import decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

# Ordering columns holding numbers; any other ordering column holds short text (codes).
NUMERIC_POSITIONS = {"id", "score_sort", "spend_12m"}
# Ordering columns holding longer text than codes: customer names (200 characters at most).
LONG_TEXT_POSITIONS = {"name_sort": 200}


def _position_valid(field: str, position: str) -> bool:
    """Cursors are opaque but client-supplied: keep tampered positions away from the database."""
    if len(position) > LONG_TEXT_POSITIONS.get(field, 64) or not position.isprintable():
        return False
    if field not in NUMERIC_POSITIONS:
        return True
    try:
        number = decimal.Decimal(position)
    except decimal.InvalidOperation:
        return False
    return number.is_finite() and abs(number) < 10**15 and (field != "id" or number == number.to_integral_value())


class StableCursorPagination(CursorPagination):
    """Fixed `ordering`, or a client's pick from `ordering_choices` (public name -> ordering ending in a unique key)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("id",)
    ordering_param = "ordering"
    ordering_choices: dict[str, tuple[str, ...]] = {}
    default_ordering = ""

    def get_ordering(self, request, queryset, view):
        choices = self.ordering_choices
        if not choices:
            return tuple(self.ordering)
        requested = request.query_params.get(self.ordering_param) or self.default_ordering
        if requested not in choices:
            raise ValidationError(
                {self.ordering_param: [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}]}
            )
        return tuple(choices[requested])

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, decimal.InvalidOperation) as exc:
            if not request.query_params.get(self.cursor_query_param):
                raise
            # a tampered cursor whose position does not fit the ordering column
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]}) from exc

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [_("Must be between 1 and %(max)d.") % {"max": self.max_page_size}]}
            )
        return size

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except Exception as exc:  # NotFound for a garbled cursor: it is the client's input, name the field
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]}) from exc
        field = self.ordering[0].lstrip("-")
        if cursor is not None and cursor.position is not None and not _position_valid(field, cursor.position):
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]})
        return cursor

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        choices = self.ordering_choices
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        if choices:
            parameters.append(
                {
                    "name": self.ordering_param,
                    "required": False,
                    "in": "query",
                    "description": _("Sort order; a leading - reverses it."),
                    "schema": {"type": "string", "enum": list(choices), "default": self.default_ordering},
                }
            )
        return parameters
