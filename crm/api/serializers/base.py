"""Serializer helpers: strict input (unknown fields are errors, not silently dropped)."""

from django.utils.translation import gettext as _
from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """Rejects keys the serializer does not accept, naming each one, so a typo never goes unnoticed."""

    def validate(self, attrs):
        if isinstance(self.initial_data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(self.initial_data) - writable)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown or read-only field.")] for name in unknown})
        return attrs

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"__all__": [_("Expected a JSON object.")]})
        return super().to_internal_value(data)
