"""JSON parsing whose errors name the field at fault: the request body."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BodyJSONParser(JSONParser):
    """DRF's strict JSON parser, with errors as {"body": [reason]} like every other 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            raise ParseError({"body": [f"Not valid JSON: {exc.detail}"]}) from exc
        except RecursionError:
            raise ParseError({"body": ["Not valid JSON: nested too deeply."]}) from None
