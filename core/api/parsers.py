"""JSON only, with a size cap enforced while reading (Django's upload limit does not cover DRF streams)."""

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json

# A 10,000-row order batch is about 1.5 MB; 16 MB leaves room for long notes.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


def max_body_bytes() -> int:
    return int(getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


class LimitedJSONParser(JSONParser):
    strict = api_settings.STRICT_JSON

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        parser_context = parser_context or {}
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdigit() and int(declared) > limit:
            raise PayloadTooLarge(_("The request body is larger than %(limit)d bytes.") % {"limit": limit})
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(_("The request body is larger than %(limit)d bytes.") % {"limit": limit})
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            codecs.lookup(encoding)
            text = raw.decode(encoding)
            parse_constant = drf_json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except (ValueError, LookupError, RecursionError) as exc:
            raise ParseError(_("Malformed JSON: %(error)s") % {"error": str(exc)[:200]}) from None
        if "\\u0000" in text:
            # PostgreSQL cannot store or compare NUL characters; refuse them before any query.
            where = _nul_location(data)
            if where is not None:
                raise NulCharacters(where)
        return data


class NulCharacters(ParseError):
    """A NUL character in the body; `fields` names where, in the API's error shape: the field
    for an object, {index, field, message} under `rows` for a batch (a list of objects)."""

    def __init__(self, where: tuple[int | None, str]):
        message = _("Text must not contain NUL (\\u0000) characters.")
        super().__init__(message)
        index, field = where
        if index is None:
            self.fields = {field or "__all__": [message]}
        else:
            self.fields = {"rows": [{"index": index, "field": field or "__all__", "message": message}]}


def _nul_location(data) -> tuple[int | None, str] | None:
    """(row index for a list body, dotted field path) of the first text holding a NUL, or None."""
    if isinstance(data, list):
        for index, row in enumerate(data):
            path = _nul_path(row)
            if path is not None:
                return index, path
        return None
    path = _nul_path(data)
    return None if path is None else (None, path)


def _nul_path(value, prefix: str = "") -> str | None:
    stack = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    return path or "__all__"
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{n}" if path else str(n), child) for n, child in enumerate(item))
    return None
