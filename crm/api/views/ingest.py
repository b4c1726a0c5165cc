"""Batch endpoints for orders, surveys and interactions: one row or a list, all or nothing.

The view only checks the envelope (a row or a list of at most MAX_ROWS rows, no unknown keys)
and which customers the caller may write to; crm.services validates every row and stores the
batch in one transaction, or raises one error listing every bad row.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import user_sees_all_customers
from core.api.permissions import MethodPermissions
from core.exceptions import DomainError
from crm import services as crm_services
from crm.api.serializers.ingest import (
    IngestResultSerializer,
    InteractionRowSerializer,
    OrderRowSerializer,
    SurveyRowSerializer,
)
from crm.models import Customer
from crm.selectors import customers_visible_to
from tiering import services as tiering_services

MAX_ROWS = 10_000


def _rows_from(data, allowed_fields: frozenset[str]) -> list[dict]:
    rows = [data] if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise DomainError(_("Send one object or a list of objects."), code="invalid", fields={"rows": []})
    if not rows:
        raise DomainError(_("The list is empty."), code="invalid", fields={"rows": []})
    if len(rows) > MAX_ROWS:
        raise DomainError(
            _("At most %(max)d rows per request; split the batch.") % {"max": MAX_ROWS},
            code="batch_too_large",
            fields={"rows": []},
        )
    errors = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append({"index": index, "field": "__all__", "message": _("Expected a JSON object.")})
            continue
        for name in sorted(set(row) - allowed_fields):
            errors.append({"index": index, "field": name, "message": _("Unknown field.")})
    if errors:
        raise DomainError(
            _("%(count)d row(s) are invalid; nothing was stored.") % {"count": len({e["index"] for e in errors})},
            code="invalid_batch",
            fields={"rows": errors},
        )
    return rows


def _restrict_to_visible(rows: list[dict], user) -> tuple[list[dict], set[int]]:
    """For callers who see only their own customers, hand the service Customer objects for
    visible codes and an unsaved placeholder for the rest (reported as unknown codes), so an
    account manager can never write to, or learn about, another manager's customer."""
    if user_sees_all_customers(user):
        return rows, set()
    codes = {row["customer"].strip() for row in rows if isinstance(row.get("customer"), str)}
    visible = {c.code: c for c in customers_visible_to(user).filter(code__in=codes).only("id", "code")}
    hidden: set[int] = set()
    resolved = []
    for index, row in enumerate(rows):
        value = row.get("customer")
        if isinstance(value, str) and value.strip():
            customer = visible.get(value.strip())
            if customer is None:
                hidden.add(index)
                customer = Customer()
            row = {**row, "customer": customer}
        resolved.append(row)
    return resolved, hidden


def _unknown_code_errors(exc: DomainError, rows: list[dict], hidden: set[int]) -> DomainError:
    if exc.code != "invalid_batch":
        return exc
    if isinstance(exc.fields.get("rows"), list):
        exc.fields["rows"].sort(key=lambda error: error.get("index", -1))  # stable: per row, fields in check order
    if not hidden:
        return exc
    for error in exc.fields.get("rows", []):
        if error.get("index") in hidden and error.get("field") == "customer":
            code = rows[error["index"]].get("customer")
            error["message"] = _("Unknown customer code %(code)r.") % {"code": str(code).strip()}
    return exc


class BatchView(APIView):
    """POST one row or a list; 201 with counts, or 400 listing every bad row and storing nothing."""

    permission_classes = [MethodPermissions]
    row_serializer = None
    allowed_fields: frozenset[str] = frozenset()

    def ingest(self, rows: list[dict]) -> crm_services.IngestResult:
        raise NotImplementedError

    def post(self, request):
        rows = _rows_from(request.data, self.allowed_fields)
        resolved, hidden = _restrict_to_visible(rows, request.user)
        try:
            result = self.ingest(resolved)
        except DomainError as exc:
            raise _unknown_code_errors(exc, rows, hidden) from None
        if result.customer_ids:
            tiering_services.customers_reevaluate_enqueue(result.customer_ids)
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
    allowed_fields = frozenset({"customer", "amount", "ordered_at", "source", "external_ref"})

    def ingest(self, rows):
        return crm_services.orders_ingest(rows=rows)

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
    allowed_fields = frozenset({"customer", "score", "surveyed_at", "channel"})

    def ingest(self, rows):
        return crm_services.surveys_record(rows=rows)

    @_batch_schema(
        SurveyRowSerializer,
        gettext_lazy("Record satisfaction surveys (score 1-5)"),
        {"customer": "MFG2026001", "score": 4.5, "surveyed_at": "2026-06-01", "channel": "email"},
    )
    def post(self, request):
        return super().post(request)


class InteractionIngestView(BatchView):
    required_perms = {"POST": ("crm.add_interaction",)}
    allowed_fields = frozenset({"customer", "kind", "occurred_at", "note"})

    def ingest(self, rows):
        return crm_services.interactions_record(rows=rows, recorded_by=self.request.user)

    @_batch_schema(
        InteractionRowSerializer,
        gettext_lazy("Record visits, calls, complaints, referrals and other interactions"),
        {"customer": "MFG2026001", "kind": "referral", "occurred_at": "2026-06-01", "note": "Introduced a buyer"},
    )
    def post(self, request):
        return super().post(request)
