"""Shapes of the batch endpoints, for the schema. Rows are validated by crm.services, whole batch at once."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.models import Interaction


class OrderRowSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=20, help_text=_("Customer code."))
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), coerce_to_string=False
    )
    ordered_at = serializers.DateField()
    source = serializers.CharField(max_length=32, help_text=_("Sending system, e.g. erp."))
    external_ref = serializers.CharField(max_length=64, help_text=_("Order id in the sending system."))


class SurveyRowSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=20)
    score = serializers.DecimalField(max_digits=3, decimal_places=2, min_value=1, max_value=5, coerce_to_string=False)
    surveyed_at = serializers.DateField()
    channel = serializers.CharField(max_length=32, required=False, allow_blank=True)


class InteractionRowSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=20)
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
    occurred_at = serializers.DateField()
    duration_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, required=False, allow_null=True)
    outcome = serializers.CharField(max_length=200, required=False, allow_blank=True)
    note = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text=_("Rows stored by this request."))
    duplicates = serializers.IntegerField(help_text=_("Rows already stored earlier (same source and external_ref)."))
