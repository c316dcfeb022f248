from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from watchlists.models import Category


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several files from one input; each is inspected by the same intake gate."""

    widget = MultipleImageInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleImageField, self).clean(f, initial) for f in files]


def _default_expiry():
    return (timezone.localtime() + timedelta(days=settings.LFR_ENTRY_EXPIRY_DAYS)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def _default_review():
    return timezone.localdate() + timedelta(days=settings.LFR_ENTRY_REVIEW_DAYS)


class SubmitForm(forms.Form):
    image = forms.FileField(
        help_text="JPEG or PNG, one face, frontal, sharp.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    subject_reference = forms.CharField(max_length=64, help_text="Internal reference.")
    more_images = MultipleImageField(
        required=False,
        label="More photos of the same person",
        help_text="Optional: further images, each checked like the first.",
        widget=MultipleImageInput(attrs={"accept": "image/jpeg,image/png", "multiple": True}),
    )
    display_name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Needed only for a new subject; for a held subject leave it blank.",
    )
    date_of_birth = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Record it where known: without it the under-18 rule cannot be checked.",
    )
    category = forms.ChoiceField(choices=Category.choices)
    legal_basis = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    case_reference = forms.CharField(max_length=120)
    provenance = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Where the image came from."
    )
    expires_at = forms.DateTimeField(
        initial=_default_expiry,
        label="Expires",
        help_text=f"Default: {settings.LFR_ENTRY_EXPIRY_DAYS} days from today.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    review_due = forms.DateField(
        initial=_default_review,
        label="Review due",
        help_text=f"Default: {settings.LFR_ENTRY_REVIEW_DAYS} days from today.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
