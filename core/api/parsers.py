"""JSON only, with the one body-size cap: settings.DATA_UPLOAD_MAX_MEMORY_SIZE (8 MB by default).

DRF reads a JSON body through Django's `request.body`, which refuses a larger body with
RequestDataTooBig before any parser runs; the exception handler turns that into the same 413 as
the check below, which covers a stream handed to the parser directly."""

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json


def max_body_bytes() -> int | None:
    """The largest request body the API reads; None when the setting lifts the cap."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class BodyTooLarge(APIException):
    """413 `body_too_large`, naming the limit in the message and in `limit_bytes`."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"

    def __init__(self):
        self.limit_bytes = max_body_bytes()
        super().__init__(
            _("The request body is larger than the limit of %(megabytes)s MB (%(bytes)d bytes).")
            % {"megabytes": f"{self.limit_bytes / 2**20:.3g}", "bytes": self.limit_bytes}
        )


class LimitedJSONParser(JSONParser):
    strict = api_settings.STRICT_JSON

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        parser_context = parser_context or {}
        if stream is None:
            raw = b""
        elif limit is None:
            raw = stream.read()
        else:
            raw = stream.read(limit + 1)
            if len(raw) > limit:
                raise BodyTooLarge()
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
