"""A JSON renderer that renders whatever is stored, so stored data never causes a 500.

Input is checked at the door (jobs.userjson), but rows written before that check, or by
another front door, may still hold a lone surrogate: JSON columns store it as a
`\\ud800` escape, but UTF-8 cannot encode it, so DRF's renderer fails the whole response
(issue 9.2). Such a response is rendered as ASCII JSON instead, with the escape kept.
(Non-finite floats need no such care: neither SQLite's nor PostgreSQL's JSON stores them.)
"""

import json

from rest_framework.renderers import JSONRenderer


class SafeJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # Rare: the slow path only when the fast one failed.
            return json.dumps(
                data, cls=self.encoder_class, ensure_ascii=True, allow_nan=not self.strict, separators=(",", ":")
            ).encode("ascii")
