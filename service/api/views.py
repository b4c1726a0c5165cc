"""The account manager's workbench over the API: activities, follow-up tasks and the contact due list.

Thin: every row is checked and stored by the services (activities by crm.services, the one write
path the interactions endpoint and the pages use; tasks by service.services.tasks); every list
starts from the rows the caller may see (core.access), so another manager's task answers 404.
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.access import rows_visible_to
from core.api.pagination import StableCursorPagination
from core.api.permissions import ActionPermissions
from core.clock import local_today
from core.rows import rows_from_body
from crm import services as crm_services
from crm.api.views.ingest import MAX_ROWS
from crm.models import Interaction
from service import selectors
from service.api.filters import ActivityFilter, ContactDueFilter, TaskFilter
from service.api.serializers import (
    ActivityBatchResultSerializer,
    ActivityRowSerializer,
    ActivitySerializer,
    ContactDueSerializer,
    TaskCancelSerializer,
    TaskCompleteSerializer,
    TaskCreateSerializer,
    TaskSerializer,
    TaskUpdateSerializer,
)
from service.services import tasks as task_services

# --- activities ---------------------------------------------------------------------------------


class ActivityPagination(StableCursorPagination):
    """Newest recorded first; ordered by id, which only grows, so paging never skips or repeats."""

    ordering = ("-id",)


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Activities (visits, calls, meetings...) of the customers you see")),
)
class ActivityViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    pagination_class = ActivityPagination
    permission_classes = [ActionPermissions]
    action_perms = {"list": ("crm.view_interaction",), "create": ("crm.add_interaction",)}

    def get_queryset(self):
        return rows_visible_to(self.request.user, Interaction.objects.select_related("customer", "recorded_by"))

    @extend_schema(
        summary=gettext_lazy(
            "Log activities: one object or a list, all or nothing; none may lie in the future (plan a task instead)"
        ),
        request=PolymorphicProxySerializer(
            component_name="ActivityBatch",
            serializers=[ActivityRowSerializer, ActivityRowSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={201: ActivityBatchResultSerializer},
        examples=[
            OpenApiExample(
                "a visit",
                value={
                    "customer": "MFG2026001",
                    "kind": "visit",
                    "occurred_at": "2026-09-28T14:30:00+08:00",
                    "duration_minutes": 45,
                    "outcome": "Trial order agreed",
                    "note": "Met the purchasing manager",
                },
                request_only=True,
            )
        ],
        filters=False,
    )
    def create(self, request):
        result = crm_services.interactions_record(
            rows=rows_from_body(request.data, max_rows=MAX_ROWS), recorded_by=request.user, user=request.user
        )
        stored = (
            Interaction.objects.filter(pk__in=[activity.pk for activity in result.objects])
            .select_related("customer", "recorded_by")
            .order_by("id")
        )
        body = ActivityBatchResultSerializer({"created": result.created, "results": stored}).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- tasks ----------------------------------------------------------------------------------------


class TaskPagination(StableCursorPagination):
    ordering_choices = {
        "due_at": ("due_at", "id"),
        "-due_at": ("-due_at", "-id"),
        "id": ("id",),
        "-id": ("-id",),
    }
    default_ordering = "due_at"


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Follow-up tasks on the customers you see, soonest due first")),
    retrieve=extend_schema(summary=gettext_lazy("One task")),
)
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    pagination_class = TaskPagination
    permission_classes = [ActionPermissions]
    action_perms = {
        "list": ("service.view_task",),
        "retrieve": ("service.view_task",),
        "create": ("service.add_task",),
        "partial_update": ("service.change_task",),
        "complete": ("service.change_task",),
        "cancel": ("service.change_task",),
    }
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.tasks_visible_to(self.request.user).select_related(
            "customer", "owner", "created_by", "completed_by"
        )

    def _task_response(self, task, http_status=status.HTTP_200_OK) -> Response:
        """The task as stored, re-read with its relations (the caller has just written it)."""
        task = self.get_queryset().get(pk=task.pk)
        return Response(TaskSerializer(task, context=self.get_serializer_context()).data, status=http_status)

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset  # a task is found by id among those the caller sees, whatever filters the URL carries
        return super().filter_queryset(queryset)

    @extend_schema(
        summary=gettext_lazy(
            "Plan a follow-up task; the owner defaults to the customer's account manager "
            "(an account manager plans only for themself)"
        ),
        request=TaskCreateSerializer,
        responses={201: TaskSerializer},
        examples=[
            OpenApiExample(
                "a call",
                value={
                    "customer": "MFG2026001",
                    "title": "Call about next year's volume",
                    "due_at": "2026-10-08T10:00:00+08:00",
                    "priority": 3,
                    "contact_kind": "call",
                    "note": "Ask about the new plant",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        serializer = TaskCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = task_services.task_create(user=request.user, **serializer.validated_data)
        return self._task_response(task, status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Change an open task: title, owner, due time, priority, contact kind, note"),
        request=TaskUpdateSerializer,
        responses={200: TaskSerializer},
        examples=[
            OpenApiExample(
                "moved",
                value={"due_at": "2026-10-09T15:00:00+08:00", "priority": 4, "note": "Moved at the customer's request"},
                request_only=True,
            )
        ],
    )
    def partial_update(self, request, pk=None):
        task = self.get_object()
        serializer = TaskUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task_services.task_update(task=task, user=request.user, **serializer.validated_data)
        return self._task_response(task)

    @extend_schema(
        summary=gettext_lazy(
            "Complete an open task; a contact task records its activity (409 when the task is no longer open)"
        ),
        request=TaskCompleteSerializer,
        responses={200: TaskSerializer},
        examples=[
            OpenApiExample(
                "done",
                value={"note": "Renewal agreed", "outcome": "Renewal for 2027", "duration_minutes": 20},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        serializer = TaskCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        task = task_services.task_complete(
            task=task,
            user=request.user,
            note=data.get("note", ""),
            occurred_at=data.get("occurred_at") or None,
            duration_minutes=data.get("duration_minutes"),
            outcome=data.get("outcome", ""),
        )
        return self._task_response(task)

    @extend_schema(
        summary=gettext_lazy("Cancel an open task (409 when it is no longer open)"),
        request=TaskCancelSerializer,
        responses={200: TaskSerializer},
        examples=[OpenApiExample("cancelled", value={"note": "The customer asked us to wait"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        task = self.get_object()
        serializer = TaskCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = task_services.task_cancel(task=task, user=request.user, note=serializer.validated_data.get("note", ""))
        return self._task_response(task)


# --- the contact due list -------------------------------------------------------------------------


class ContactDuePagination(StableCursorPagination):
    """Most overdue first."""

    ordering = ("due_on", "customer_id")


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy(
            "Customers due for contact under their tier's contact plan, most overdue first (the due list)"
        )
    ),
)
class ContactDueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ContactDueSerializer
    filterset_class = ContactDueFilter
    pagination_class = ContactDuePagination
    permission_classes = [ActionPermissions]
    action_perms = {"list": ("service.view_contactstatus",)}

    def get_queryset(self):
        return selectors.contact_due(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": local_today()}
