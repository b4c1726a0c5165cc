"""Cases, playbooks and results over the API.

Thin: cases are opened, answered and moved on by commitments.services.cases (the one write path
the pages and admin use too); every list starts from the rows the caller may see (core.access),
so another manager's case answers 404, and a case for a customer the caller does not see is
refused like an unknown customer code (400 naming `customer`), as the other create endpoints do.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from commitments import results as results_module
from commitments import selectors
from commitments.api.filters import CaseFilter, PlaybookFilter
from commitments.api.serializers import (
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseRespondSerializer,
    CaseSerializer,
    CaseStatusSerializer,
    PlaybookSerializer,
    ResultsSerializer,
)
from commitments.services import cases as case_services
from core.access import rows_visible_to
from core.api.pagination import StableCursorPagination
from core.api.permissions import ActionPermissions, MethodPermissions
from core.api.schema import ErrorAwareAutoSchema
from core.clock import local_today
from core.exceptions import DomainError, NotFoundError
from crm.models import Interaction

# --- cases ----------------------------------------------------------------------------------------


class CasePagination(StableCursorPagination):
    ordering_choices = {
        "-opened_at": ("-opened_at", "-id"),
        "opened_at": ("opened_at", "id"),
        "due": ("first_response_due_at", "id"),
        "-id": ("-id",),
        "id": ("id",),
    }
    default_ordering = "-opened_at"


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Cases (requests, complaints, incidents) of the customers you see")),
    retrieve=extend_schema(summary=gettext_lazy("One case with its replies")),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    pagination_class = CasePagination
    permission_classes = [ActionPermissions]
    action_perms = {
        "list": ("commitments.view_case",),
        "retrieve": ("commitments.view_case",),
        "create": ("commitments.add_case",),
        "respond": ("commitments.view_case", "commitments.add_casereply"),
        "status": ("commitments.view_case", "commitments.change_case"),
    }
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        cases = selectors.cases_visible_to(self.request.user).select_related("customer", "owner", "tier", "created_by")
        if self.action == "retrieve":
            cases = cases.prefetch_related("replies__author")
        return cases

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action != "list" else CaseSerializer

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset  # a case is found by id among those the caller sees, whatever filters the URL carries
        return super().filter_queryset(queryset)

    def _case_response(self, case, http_status=status.HTTP_200_OK) -> Response:
        """The case as stored, re-read with its relations and replies (the caller has just written it)."""
        case = (
            selectors.cases_visible_to(self.request.user)
            .select_related("customer", "owner", "tier", "created_by")
            .prefetch_related("replies__author")
            .get(pk=case.pk)
        )
        return Response(CaseDetailSerializer(case, context=self.get_serializer_context()).data, status=http_status)

    @extend_schema(
        summary=gettext_lazy(
            "Open a case; its first-response clock comes from the customer's tier now. A complaint is "
            "also recorded as the customer's complaint activity (once)"
        ),
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer},
        examples=[
            OpenApiExample(
                "a complaint",
                value={
                    "customer": "MFG2026001",
                    "kind": "complaint",
                    "severity": 3,
                    "channel": "phone",
                    "subject": "Spare parts late again",
                    "description": "Third time this quarter",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        serializer = CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        activity_id = data.pop("activity", None)
        activity = None
        if activity_id is not None:
            activity = rows_visible_to(request.user, Interaction.objects.all()).filter(pk=activity_id).first()
            if activity is None:
                raise DomainError(
                    _("The case has invalid fields."),
                    fields={"activity": [_("Unknown activity %(id)s.") % {"id": activity_id}]},
                )
        try:
            case = case_services.case_open(user=request.user, activity=activity, **data)
        except DomainError as error:
            if list(error.fields) == ["customer"]:  # unknown or another manager's: a case for it is not found
                raise NotFoundError(error.fields["customer"][0], fields=error.fields) from error
            raise
        return self._case_response(case, status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Reply to the customer; the first reply stops the first-response clock (409 once closed)"),
        request=CaseRespondSerializer,
        responses={201: CaseDetailSerializer},
        examples=[OpenApiExample("a reply", value={"body": "An engineer is on the way."}, request_only=True)],
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        case = self.get_object()
        serializer = CaseRespondSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case_services.case_respond(case=case, user=request.user, body=serializer.validated_data["body"])
        return self._case_response(case, status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy(
            "Move the case on: open → in progress → resolved → closed (resolved may reopen); resolving "
            "and closing need a resolution; a satisfaction grade at close becomes a survey"
        ),
        request=CaseStatusSerializer,
        responses={200: CaseDetailSerializer},
        examples=[
            OpenApiExample(
                "closed",
                value={"status": "closed", "resolution": "Part replaced", "satisfaction": "B"},
                request_only=True,
            )
        ],
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        case = self.get_object()
        serializer = CaseStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = case_services.case_transition(
            case=case,
            status=data["status"],
            user=request.user,
            resolution=data.get("resolution", ""),
            satisfaction=data.get("satisfaction", ""),
        )
        return self._case_response(case)


# --- playbooks ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Playbooks: per tier and event, the steps that become tasks")),
    retrieve=extend_schema(summary=gettext_lazy("One playbook with its steps")),
)
class PlaybookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read-only: administrators edit playbooks in Django admin. A short list, not paged."""

    serializer_class = PlaybookSerializer
    filterset_class = PlaybookFilter
    pagination_class = None
    permission_classes = [ActionPermissions]
    action_perms = {"list": ("commitments.view_playbook",), "retrieve": ("commitments.view_playbook",)}
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.playbooks_list()


# --- results --------------------------------------------------------------------------------------


class CSVRenderer(BaseRenderer):
    """The results as CSV; the view hands it the rows (Results.csv_text)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode(self.charset) if isinstance(data, str) else b""


QUARTERS_PARAMETER = OpenApiParameter(
    "quarters",
    str,
    required=False,
    description=gettext_lazy(
        "Comma-separated quarters, e.g. 2026-Q1,2026-Q2 (at most 12, none after the current one). "
        "Default: the last four, the current one included."
    ),
)


class ResultsSchema(ErrorAwareAutoSchema):
    """Errors are the API's JSON error body whatever was asked for: no CSV error shape."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in responses.items():
            if not str(code).startswith("2"):
                response.get("content", {}).pop(CSVRenderer.media_type, None)
        return responses


class ResultsView(APIView):
    """Per tier and quarter: each figure with its definition, value and the counts behind it."""

    schema = ResultsSchema()
    permission_classes = [MethodPermissions]
    required_perms = {"GET": ("commitments.view_results",)}
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        summary=gettext_lazy(
            "Results per tier and quarter (repurchase, dormant activation, retention, conversion, order value, "
            "first-response SLA, contact plans, playbook tasks), over the customers you see; CSV with "
            "?format=csv or Accept: text/csv"
        ),
        parameters=[QUARTERS_PARAMETER],
        responses={
            (200, "application/json"): OpenApiResponse(
                ResultsSerializer, description=gettext_lazy("Every figure with its definition and values.")
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description=gettext_lazy("One row per figure, quarter and tier.")
            ),
        },
        filters=False,
    )
    def get(self, request):
        quarters = results_module.quarters_parse(request.query_params.get("quarters"), today=local_today())
        table = results_module.results_cached(request.user, quarters)
        if request.accepted_renderer.format == CSVRenderer.format:
            stamp = timezone.localdate(table.computed_at)
            disposition = f'attachment; filename="results-{stamp:%Y%m%d}.csv"'
            return Response(table.csv_text(), headers={"Content-Disposition": disposition})
        return Response(ResultsSerializer(table.as_dict()).data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(getattr(response, "accepted_renderer", None), CSVRenderer):
            # An error is the API's JSON error body, also for a CSV request.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response
