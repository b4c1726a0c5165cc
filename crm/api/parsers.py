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
        if "\\u0000" in text and _contains_nul(data):
            # PostgreSQL cannot store or compare NUL characters; refuse them before any query.
            raise ParseError(_("Text must not contain NUL (\\u0000) characters."))
        return data


def _contains_nul(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
