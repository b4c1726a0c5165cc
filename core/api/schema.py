"""OpenAPI details shared by every endpoint: the error shape and the error statuses it may carry."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Machine-readable error code, e.g. invalid, not_found, conflict."))
    message = serializers.CharField(help_text=_("Human-readable explanation."))
    fields = serializers.DictField(
        child=serializers.JSONField(),
        help_text=_("Messages per field; batch endpoints put a list of {index, field, message} under rows."),
    )
    retry_after_seconds = serializers.IntegerField(required=False, help_text=_("Only on 429."))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# Statuses any authenticated JSON endpoint may answer; write operations add 400/409.
_COMMON_ERRORS = {
    "401": _("Missing or invalid token."),
    "403": _("The token's user lacks the permission."),
    "404": _("Not found, or not visible to this user."),
    "405": _("Method not allowed."),
    "406": _("Only JSON responses are offered."),
    "429": _("Too many requests for this token; retry after Retry-After seconds."),
}
_WRITE_ERRORS = {
    "400": _("Malformed JSON, wrong types, unknown fields or out-of-range values."),
    "409": _("Conflicts with the current state."),
    "413": _("The request body is too large."),
    "415": _("The body must be JSON."),
}


class ErrorAwareAutoSchema(AutoSchema):
    """Adds the error envelope to every operation so clients (and schema checkers) know every status."""

    def get_tags(self):
        """Group operations by resource (/api/v1/customers/... -> customers) in the docs."""
        parts = [part for part in self.path.split("/") if part and not part.startswith("{")]
        return [parts[2]] if len(parts) > 2 and parts[:2] == ["api", "v1"] else super().get_tags()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(_COMMON_ERRORS)
        errors["400"] = _("Invalid query parameters or body.")
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            errors.update(_WRITE_ERRORS)
        for code, description in errors.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = str(description)
                responses[code] = response
        return responses
