"""Industries. Everyone reads; staff administrators write."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from core.api.permissions import ReadOrAdminWrite
from core.api.serializers import reject_unknown_fields
from crm.api.serializers.industries import IndustrySerializer, IndustryUpdateSerializer
from crm.models import Industry


@extend_schema_view(
    list=extend_schema(summary=_("Industries with code, names and strategic flag")),
    create=extend_schema(summary=_("Add an industry (administrators)")),
    retrieve=extend_schema(summary=_("One industry")),
    partial_update=extend_schema(summary=_("Rename an industry or change its strategic flag (administrators)")),
)
class IndustryViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Industry.objects.order_by("code")
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z]+"
    permission_classes = [ReadOrAdminWrite]
    admin_write_perms = ("crm.add_industry", "crm.change_industry")
    pagination_class = None
    filter_backends = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        return IndustryUpdateSerializer if self.action == "partial_update" else IndustrySerializer

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if self.action in {"create", "partial_update"}:
            reject_unknown_fields(serializer)
        return serializer
