"""Admin building blocks shared by the apps (not an app of its own: nothing here is registered)."""

from django.contrib.admin.views.main import ChangeList
from django.db.models import F, OrderBy

from core.collation import Pinyin


class ReadOnlyAdminMixin:
    """For append-only records and recent-row inlines: admins look, they never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _pinyin_ordering(ordering, fields) -> object:
    """An ordering by one of `fields` ("name", "-name", F("name").desc()) -> the same by pinyin."""
    if isinstance(ordering, str) and ordering.lstrip("-") in fields:
        expression = Pinyin(ordering.lstrip("-"))
        return expression.desc() if ordering.startswith("-") else expression.asc()
    if isinstance(ordering, OrderBy) and isinstance(ordering.expression, F) and ordering.expression.name in fields:
        expression = Pinyin(ordering.expression.name)
        return expression.desc() if ordering.descending else expression.asc()
    return ordering


class _PinyinChangeList(ChangeList):
    def get_ordering_field(self, field_name):
        order_field = super().get_ordering_field(field_name)
        if isinstance(order_field, str) and order_field.lstrip("-") in self.model_admin.pinyin_ordering_fields:
            return _pinyin_ordering(order_field, self.model_admin.pinyin_ordering_fields)
        return order_field


class PinyinOrderingAdminMixin:
    """The text columns named in `pinyin_ordering_fields` sort by pinyin (core.collation), in the
    database: by default and when their column header is clicked."""

    pinyin_ordering_fields: tuple[str, ...] = ()

    def get_ordering(self, request):
        ordering = super().get_ordering(request) or self.model._meta.ordering
        return [_pinyin_ordering(item, self.pinyin_ordering_fields) for item in ordering]

    def get_changelist(self, request, **kwargs):
        return _PinyinChangeList
