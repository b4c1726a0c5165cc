"""One error shape for every API failure: {"error": {"code", "message", "fields"}}.

Clients branch on `code`, show `message`, and find per-field messages under `fields`.
Domain errors from services, DRF validation, malformed JSON, a body over the size limit, 404,
throttling and any other DRF exception all end up here, so no endpoint invents its own error format.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.parsers import BodyTooLarge
from core.exceptions import DomainError


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def _plain(detail):
    """ErrorDetail trees -> plain str / list / dict, so the JSON never depends on DRF classes."""
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list | tuple):
        return [_plain(item) for item in detail]
    return str(detail)


def _validation_fields(detail) -> dict:
    if isinstance(detail, dict):
        fields = _plain(detail)
        if "non_field_errors" in fields:
            fields["__all__"] = fields.pop("non_field_errors")
        return fields
    return {"__all__": _plain(detail if isinstance(detail, list) else [detail])}


_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django's own cap (DATA_UPLOAD_MAX_MEMORY_SIZE), hit when DRF reads request.body: left to
        # Django it would be an HTML 400.
        exc = BodyTooLarge()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500

    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", _("Invalid input."), _validation_fields(exc.detail))
        return response
    code = next((code for cls, code in _CODES.items() if isinstance(exc, cls)), None)
    if code is None:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
    detail = exc.detail if isinstance(exc.detail, str) else _("The request could not be processed.")
    response.data = error_body(code, detail, getattr(exc, "fields", None))
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response.data["error"]["retry_after_seconds"] = int(exc.wait + 0.999)
    if isinstance(exc, BodyTooLarge):
        response.data["error"]["limit_bytes"] = exc.limit_bytes
    return response
