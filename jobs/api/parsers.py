"""A JSON parser that enforces the request size limit.

DRF's JSONParser reads the request stream directly, past Django's
DATA_UPLOAD_MAX_MEMORY_SIZE check, so without this a client could make the server
buffer any amount of JSON.
"""

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant


class RequestTooLarge(ParseError):
    def __init__(self, limit):
        super().__init__(
            {"body": [f"Request body is larger than {limit} bytes, the limit (LEPTON_MAX_REQUEST_BYTES)."]}
        )


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise RequestTooLarge(limit)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(body.decode(encoding), parse_constant=strict_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError({"body": [f"Not valid JSON: {exc}"]}) from exc
