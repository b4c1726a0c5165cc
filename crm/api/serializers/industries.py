"""Industries: reference data administrators maintain."""

from rest_framework import serializers

from crm.models import Industry


class IndustrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Industry
        fields = ["code", "name_zh", "name_en", "strategic"]


class IndustryUpdateSerializer(serializers.ModelSerializer):
    """The code identifies the industry and is part of customer codes, so it never changes."""

    class Meta:
        model = Industry
        fields = ["code", "name_zh", "name_en", "strategic"]
        read_only_fields = ["code"]
