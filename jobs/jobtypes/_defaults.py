"""A params form base class that applies field defaults.

Django forms do not apply `initial` to missing data: an omitted, non-required field
cleans to None (or ""). Job types want the default instead, whichever front door
(API, CLI, web form) the params came through, so `ParamsForm` fills it in. The same
`initial` pre-fills the web form, so each default is written once.
"""

from django import forms


class ParamsForm(forms.Form):
    def clean(self):
        cleaned_data = super().clean()
        # Fields that failed validation are not in cleaned_data, so they get no default.
        for name, value in cleaned_data.items():
            field = self.fields[name]
            if not field.required and value in field.empty_values:
                cleaned_data[name] = field.initial
        return cleaned_data
