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
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Record it where known: without it the under-18 rule cannot be checked.",
    )
    taken_on = forms.DateField(
        label="Photo taken on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="When the photo was taken (for several, the oldest). Use the most recent "
        f"suitable image: older than {settings.LFR_IMAGE_MAX_AGE_DAYS} days is flagged.",
    )
    category = forms.ChoiceField(choices=Category.choices)
    legal_basis = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    case_reference = forms.CharField(max_length=120)
    provenance = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Where the image came from."
    )
    is_test_subject = forms.BooleanField(
        required=False,
        label="Blue-list test subject (a staff volunteer)",
        help_text="Only deployments that opt in to blue-list testing freeze it; its alerts are "
        "tests, never acted on. State the volunteer's consent as the legal basis.",
    )
    other_person_reason = forms.CharField(
        required=False,
        label="Why a photo far from the subject's others is the same person",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed only when a photo lies farther than the same-person bound from "
        "the subject's other photos (it may show someone else).",
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
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class ImportForm(forms.Form):
    """A bulk import from the page: a ZIP of subject folders, or several photos of one."""

    archive = forms.FileField(
        required=False,
        label="ZIP of subject folders",
        help_text="One folder per subject, named by its reference, holding its photos.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
    photos = MultipleImageField(
        required=False,
        label="Or several photos of one subject",
        widget=MultipleImageInput(attrs={"accept": "image/jpeg,image/png", "multiple": True}),
    )
    subject_reference = forms.CharField(
        max_length=64, required=False, help_text="For several photos: the subject they show."
    )
    category = forms.ChoiceField(choices=Category.choices)
    legal_basis = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    provenance = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Where the images came from."
    )
    case_reference = forms.CharField(max_length=120, required=False)
    taken_on = forms.DateField(
        required=False,
        label="Photos taken on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="When the photos were taken (the oldest); left blank, recorded as unknown "
        "and flagged on review.",
    )
    expires = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=f"Default: {settings.LFR_ENTRY_EXPIRY_DAYS} days from today.",
    )

    def clean(self):
        data = super().clean()
        if not data.get("archive") and not data.get("photos"):
            raise forms.ValidationError("Choose a ZIP, or several photos of one subject.")
        if data.get("photos") and not (data.get("subject_reference") or "").strip():
            self.add_error("subject_reference", "Say which subject the photos show.")
        return data

    def archive_bytes(self) -> tuple[bytes, str]:
        """The upload as one ZIP of subject folders (several photos are packed as one)."""
        import io
        import zipfile

        data = self.cleaned_data
        if data.get("archive"):
            upload = data["archive"]
            return upload.read(), upload.name
        buffer = io.BytesIO()
        reference = data["subject_reference"].strip()
        with zipfile.ZipFile(buffer, "w") as archive:
            for n, photo in enumerate(data["photos"], start=1):
                archive.writestr(f"{reference}/{n:03d}-{photo.name}", photo.read())
        return buffer.getvalue(), f"{len(data['photos'])} photos of {reference}"
