"""Form fields that take a list from JSON (API) or from text (CLI, web form).

Job-type params are Django forms so that one definition validates all three front
doors. The API hands these fields real lists; the CLI and the web form hand them
strings, which may be a JSON list or one item per separator.
"""

import math
import re

from django import forms
from django.core.exceptions import ValidationError

from jobs import userjson


class ListField(forms.Field):
    """A list whose items are each cleaned by `item_field`."""

    widget = forms.Textarea

    def __init__(self, item_field, *, separator=r"\n", min_items=1, max_items=None, max_chars=None, **kwargs):
        self.item_field = item_field
        self.separator = re.compile(separator)
        self.min_items = min_items
        self.max_items = max_items
        #: Total characters of the text items: what a subtask's and a request's work grow with.
        self.max_chars = max_chars
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return []
        if isinstance(value, str):
            value = self._parse_text(value)
        if not isinstance(value, (list, tuple)):
            raise ValidationError("Enter a list.", code="invalid")
        return list(value)

    def _parse_text(self, text):
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                return userjson.loads(stripped)
            except userjson.UserJSONError as exc:
                raise ValidationError(f"Not a valid JSON list: {exc}", code="invalid") from None
        return [item for item in self.separator.split(stripped) if item.strip()]

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(value) < self.min_items:
            raise ValidationError(f"Enter at least {self.min_items} items.", code="min_items")
        if self.max_items is not None and len(value) > self.max_items:
            raise ValidationError(
                f"Enter at most {self.max_items:,} items (got {len(value):,}).", code="max_items"
            )

    def clean(self, value):
        items = self.to_python(value)
        self.validate(items)
        if self.max_chars is not None:
            chars = sum(len(item) for item in items if isinstance(item, str))
            if chars > self.max_chars:
                raise ValidationError(
                    f"Enter at most {self.max_chars:,} characters in all (got {chars:,}).", code="max_chars"
                )
        clean_many = getattr(self.item_field, "clean_many", None)
        fast = clean_many(items) if clean_many else None
        if fast is not None:
            return fast
        cleaned = []
        for position, item in enumerate(items):
            try:
                cleaned.append(self.item_field.clean(item))
            except ValidationError as exc:
                raise ValidationError(
                    f"Item {position}: {' '.join(exc.messages)}", code="invalid_item"
                ) from exc
        return cleaned


class StrictIntegerField(forms.IntegerField):
    """An IntegerField that refuses JSON floats and booleans instead of coercing them."""

    def to_python(self, value):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class NumberField(forms.FloatField):
    """A finite number; refuses booleans (JSON would pass them as 0/1) and huge integers."""

    def clean_many(self, values):
        """Floats for a list of plain JSON numbers, or None to clean item by item.

        A `stats` job may carry a million numbers; Field.clean on each is seconds of work.
        """
        if self.validators or not set(map(type, values)) <= {int, float}:
            return None
        try:
            floats = list(map(float, values))
        except OverflowError:
            return None
        return floats if all(map(math.isfinite, floats)) else None

    def to_python(self, value):
        if isinstance(value, bool):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return super().to_python(value)
        except OverflowError:
            raise ValidationError("Number too large.", code="invalid") from None


class TextField(forms.CharField):
    """A CharField that refuses JSON numbers, lists and objects instead of stringifying them,
    and text that UTF-8 cannot encode (a lone surrogate could be stored but never shown)."""

    def to_python(self, value):
        if value is not None and not isinstance(value, str):
            raise ValidationError("Enter text.", code="invalid")
        try:
            userjson.check_storable(value, "The text")
        except userjson.UserJSONError as exc:
            raise ValidationError(str(exc), code="invalid") from None
        return super().to_python(value)
