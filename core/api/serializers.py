"""Serializer helpers: strict input (unknown fields are errors, not silently dropped), bounded dates."""

import datetime
from collections.abc import Mapping

from django.utils.translation import gettext as _
from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """Rejects keys the serializer does not accept, naming each one, so a typo never goes unnoticed.

    Unknown keys are reported together with the other field errors, also in nested serializers."""

    allow_unknown_fields = False

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"__all__": [_("Expected a JSON object.")]})
        unknown = {}
        if not self.allow_unknown_fields:
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {str(name): [_("Unknown or read-only field.")] for name in data if name not in writable}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                exc.detail.update(unknown)
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


# Dates outside this window are typos, and would overflow the 12-month window arithmetic.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)


def date_in_range(value: datetime.date) -> datetime.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(
            _("Must be between %(first)s and %(last)s.") % {"first": EARLIEST_DATE, "last": LATEST_DATE}
        )
    return value


def reject_unknown_fields(serializer):
    """ModelSerializer drops unknown keys silently; the API names them instead."""
    data = getattr(serializer, "initial_data", None)
    if isinstance(data, dict):
        writable = {name for name, field in serializer.fields.items() if not field.read_only}
        unknown = sorted(set(data) - writable)
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown or read-only field.")] for name in unknown})
