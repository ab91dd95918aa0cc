"""JSON parsing whose errors name the field at fault and speak in the user's terms."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from jobs import userjson


class BodyJSONParser(JSONParser):
    """Strict JSON, refused as {"body": [reason]} or {field: [reason]} like every other 400.

    The rules are jobs.userjson's, so a parser's internals never reach the client and
    nothing that could not be stored or rendered later (a lone surrogate) gets in.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError({"body": [f"Not valid UTF-8: byte {exc.start} cannot be decoded."]}) from None
        del raw  # a body can be 32 MB: hold the bytes or the text, not both, while parsing
        try:
            # Values are checked per top-level field below, so the error can name it.
            data = userjson.loads_unchecked(text)
        except userjson.UserJSONError as exc:
            raise ParseError({"body": [f"Not valid JSON: {exc}"]}) from None
        fields = data.items() if isinstance(data, dict) else [("body", data)]
        for field, value in fields:
            try:
                userjson.check_storable(field, "a field name")
            except userjson.UserJSONError as exc:
                raise ParseError({"body": [str(exc)]}) from None
            try:
                userjson.check_storable(value, field)
            except userjson.UserJSONError as exc:
                raise ParseError({field: [str(exc)]}) from None
        return data
