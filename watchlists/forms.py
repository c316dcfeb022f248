from django import forms

from watchlists.models import Category


class SubmitForm(forms.Form):
    image = forms.FileField(
        help_text="JPEG or PNG, one face, frontal, sharp.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    subject_reference = forms.CharField(max_length=64, help_text="Internal reference.")
    display_name = forms.CharField(
        max_length=200, required=False, help_text="Needed only for a new subject."
    )
    date_of_birth = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.ChoiceField(choices=Category.choices)
    legal_basis = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    case_reference = forms.CharField(max_length=120)
    provenance = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Where the image came from."
    )
    expires_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    review_due = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
