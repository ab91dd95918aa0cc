"""A JSON renderer that renders whatever is stored, so stored data never causes a 500.

Input is checked at the door (jobs.userjson), but rows written before that check, or by
another front door, may still hold a lone surrogate (which UTF-8 cannot encode) or a
non-finite float (which strict JSON cannot express). Those render as `\\udXXX` escapes
and `null` instead of failing the whole response (issue 9.2).
"""

import json
import math

from rest_framework.renderers import JSONRenderer


class SafeJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except (UnicodeEncodeError, ValueError):
            # Rare: pay for the slow path only when the fast one failed.
            return json.dumps(
                _finite(data), cls=self.encoder_class, ensure_ascii=True, allow_nan=False,
                separators=(",", ":"),
            ).encode("ascii")


def _finite(value):
    """`value` with NaN and ±inf replaced by None, at any depth."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
