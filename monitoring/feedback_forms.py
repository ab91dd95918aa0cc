"""The feedback form users fill in on /feedback/ and in the box on a job page."""

from django import forms

from monitoring.models import Feedback


class FeedbackForm(forms.ModelForm):
    rating = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        label="Rating",
        help_text="1 (bad) to 5 (great).",
    )

    class Meta:
        model = Feedback
        fields = ["rating", "category", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 4, "maxlength": 5000})}
