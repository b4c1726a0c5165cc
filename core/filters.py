"""Filter fields shared by the web pages and the API."""

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField


class BoundedIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 timestamps between 1900 and 2100: far years overflow once converted to UTC."""

    def clean(self, value):
        value = super().clean(value)
        if value is not None and not (1900 <= value.year <= 2100):
            raise ValidationError(_("Must be between 1900 and 2100."), code="out_of_range")
        return value


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField
