"""Batch endpoints for orders, surveys and interactions: one row or a list, all or nothing.

The view only checks the envelope (one row or a list of at most MAX_ROWS rows); crm.services
checks every row (unknown fields, customers the caller may not see read as unknown codes),
stores the batch in one transaction or raises one error listing every bad row, and announces
what it stored, which re-evaluates the customers.
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import MethodPermissions
from core.rows import rows_from_body
from crm import services as crm_services
from crm.api.serializers.ingest import (
    IngestResultSerializer,
    InteractionRowSerializer,
    OrderRowSerializer,
    SurveyRowSerializer,
)

MAX_ROWS = 10_000


class BatchView(APIView):
    """POST one row or a list; 201 with counts, or 400 listing every bad row and storing nothing."""

    permission_classes = [MethodPermissions]
    row_serializer = None

    def ingest(self, rows: list[dict]) -> crm_services.IngestResult:
        raise NotImplementedError

    def post(self, request):
        result = self.ingest(rows_from_body(request.data, max_rows=MAX_ROWS))
        return Response(
            IngestResultSerializer({"created": result.created, "duplicates": result.duplicates}).data,
            status=status.HTTP_201_CREATED,
        )


def _batch_schema(row_serializer, summary, example):
    return extend_schema(
        summary=summary,
        request=PolymorphicProxySerializer(
            component_name=f"{row_serializer.__name__.removesuffix('Serializer')}Batch",
            serializers=[row_serializer, row_serializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={201: IngestResultSerializer},
        examples=[OpenApiExample("one row", value=example, request_only=True)],
    )


class OrderIngestView(BatchView):
    required_perms = {"POST": ("crm.add_order",)}
    def ingest(self, rows):
        return crm_services.orders_ingest(rows=rows, user=self.request.user)

    @_batch_schema(
        OrderRowSerializer,
        gettext_lazy("Push orders; idempotent on (source, external_ref); up to 10,000 per request"),
        {
            "customer": "MFG2026001",
            "amount": "1280.00",
            "ordered_at": "2026-06-01",
            "source": "erp",
            "external_ref": "SO-10001",
        },
    )
    def post(self, request):
        return super().post(request)


class SurveyIngestView(BatchView):
    required_perms = {"POST": ("crm.add_satisfactionsurvey",)}
    def ingest(self, rows):
        return crm_services.surveys_record(rows=rows, user=self.request.user)

    @_batch_schema(
        SurveyRowSerializer,
        gettext_lazy("Record satisfaction surveys (score 1-5)"),
        {"customer": "MFG2026001", "score": 4.5, "surveyed_at": "2026-06-01", "channel": "email"},
    )
    def post(self, request):
        return super().post(request)


class InteractionIngestView(BatchView):
    required_perms = {"POST": ("crm.add_interaction",)}
    def ingest(self, rows):
        return crm_services.interactions_record(rows=rows, recorded_by=self.request.user, user=self.request.user)

    @_batch_schema(
        InteractionRowSerializer,
        gettext_lazy("Record visits, calls, complaints, referrals and other interactions"),
        {"customer": "MFG2026001", "kind": "referral", "occurred_at": "2026-06-01", "note": "Introduced a buyer"},
    )
    def post(self, request):
        return super().post(request)
