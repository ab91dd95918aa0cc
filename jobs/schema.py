"""Describe a params form as JSON, for `GET /api/job-types/` and the CLI's help."""

from django import forms

from jobs.fields import ListField

# Most specific first: FloatField is a subclass of IntegerField.
_TYPES = [
    (ListField, "array"),
    (forms.BooleanField, "boolean"),
    (forms.FloatField, "number"),
    (forms.IntegerField, "integer"),
    (forms.ChoiceField, "string"),
    (forms.CharField, "string"),
]


def _type_of(field):
    return next((name for cls, name in _TYPES if isinstance(field, cls)), "string")


def describe_field(name, field):
    description = {"name": name, "type": _type_of(field), "required": field.required}
    if not field.required and field.initial is not None:
        description["default"] = field.initial
    if field.help_text:
        description["help"] = str(field.help_text)
    for attribute, key in (("min_value", "minimum"), ("max_value", "maximum")):
        value = getattr(field, attribute, None)
        if value is not None:
            description[key] = value
    if isinstance(field, forms.ChoiceField):
        description["choices"] = [value for value, _ in field.choices]
    if isinstance(field, ListField):
        description["items"] = _type_of(field.item_field)
        # The per-request caps (issue 9.3), so a client can split its work before sending it.
        for attribute in ("max_items", "max_chars"):
            if getattr(field, attribute) is not None:
                description[attribute] = getattr(field, attribute)
    return description


def describe_form(form_class):
    return [describe_field(name, field) for name, field in form_class.base_fields.items()]
