"""Forms for the deployment pages; they only shape input, the services hold the rules."""

from datetime import date

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from core import access
from deployments.models import Assessment, Camera, Deployment, Site
from deployments.services import (
    PLAN_PURPOSE_AND_SITE,
    PLAN_TERMS,
    PLAUSIBLE_YEARS,
    camera_validate_stream_url,
    verification_default,
)
from watchlists.models import Category


def clean_iso_week(value: str | None) -> tuple[int, int] | None:
    """'2026-W49' → (2026, 49); None when not given (the caller shows this week);
    ValidationError for anything else, including weeks outside the plausible years."""
    if not value:
        return None
    try:
        year, week = (int(part) for part in value.upper().split("-W"))
        date.fromisocalendar(year, week, 1)
    except ValueError:
        year = None
    if year not in PLAUSIBLE_YEARS:
        raise ValidationError(
            f"The week must be an ISO week such as 2026-W49, in the years "
            f"{PLAUSIBLE_YEARS[0]} to {PLAUSIBLE_YEARS[-1]}.",
            code="week",
        )
    return year, week


DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CameraChoices(forms.CheckboxSelectMultiple):
    """Each camera's box carries its site, so the page offers only the chosen site's
    cameras (deployments/plan_form.js); the service refuses any other all the same."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-site"] = instance.site_id
        return option


class DeploymentForm(forms.ModelForm):
    watchlist_categories = forms.MultipleChoiceField(
        choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    cameras = forms.ModelMultipleChoiceField(
        queryset=Camera.objects.filter(enabled=True).select_related("site"),
        widget=CameraChoices,
    )
    officers = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.filter(groups__name=access.OFFICER, is_active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Engagement officers who will see this deployment's alerts.",
    )

    class Meta:
        model = Deployment
        fields = [*PLAN_PURPOSE_AND_SITE, "cameras", *PLAN_TERMS, "officers"]
        widgets = {
            "starts_at": DATETIME,
            "ends_at": DATETIME,
            "necessity": forms.Textarea(attrs={"rows": 3}),
            "proportionality": forms.Textarea(attrs={"rows": 3}),
            "location_rationale": forms.Textarea(attrs={"rows": 3}),
            "minors_reason": forms.Textarea(attrs={"rows": 2}),
            "no_notice_reason": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "location_rationale": "Why this location",
            "threshold": "Match threshold (face distance; lower is stricter)",
            "dpia_reference": "DPIA reference",
            "equality_reference": "Equality impact assessment reference",
            "policy_reference": "Appropriate policy document reference",
            "public_notice": "Advance public notice",
            "minors_reason": "Reason to include under-18s",
            "include_test_subjects": "Blue-list testing: include the test subjects (staff "
            "volunteers) to measure the live true-positive rate",
            "no_notice_reason": "Reason for no advance notice",
            "urgent": "Urgent start (authorisation within LFR_URGENT_AUTHORISE_HOURS)",
            "verification": "Alert verification",
        }
        widgets["verification"] = forms.RadioSelect

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        threshold = self.fields["threshold"]
        if self.instance.pk is None:
            threshold.initial = settings.LFR_THRESHOLD_DEFAULT
        threshold.help_text = (
            f"The largest face distance that still alerts: lower is stricter. The operating "
            f"point is {settings.LFR_THRESHOLD_DEFAULT} (see the accuracy report); no looser "
            f"than {settings.LFR_THRESHOLD_MAX} is allowed, and the authorising officer may "
            "tighten it."
        )
        if not settings.LFR_URGENT_MODE:
            del self.fields["urgent"]  # not on offer here: the service would refuse it
        verification = self.fields["verification"]
        verification.required = False  # left out: the plan keeps what it has, or the default
        if self.instance.pk is None:
            verification.initial = verification_default()
        verification.help_text = (
            "Two: no officer acts on an alert until two different officers have each "
            "verified it, without seeing the other's decision first."
            + (" This force requires two." if settings.LFR_REQUIRE_TWO_PERSON_VERIFICATION else "")
        )

    def plan(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("cameras", None)
        data.pop("officers", None)
        if not data.get("verification"):
            data.pop("verification", None)
        return data


class DecisionForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    short_notice_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
        label="Why no advance notice was given",
    )
    seen_updated_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)
    threshold = forms.FloatField(
        required=False,
        min_value=0.01,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.001"}),
        label="Match threshold you authorise",
        help_text="Face distance, lower is stricter: lower the planned value, never raise it.",
    )
    policy_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Why a threshold looser than the false-alert policy allows (only then)",
    )


class WalkthroughForm(forms.Form):
    """A blue-list walk-through: which test subject walked, where and when."""

    entry_id = forms.TypedChoiceField(coerce=int, label="Test subject")
    camera = forms.ModelChoiceField(
        queryset=Camera.objects.none(), required=False, empty_label="any of its cameras"
    )
    started_at = forms.DateTimeField(label="Walk started", widget=DATETIME)
    ended_at = forms.DateTimeField(label="Walk ended", widget=DATETIME)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    perceived_group = forms.ChoiceField(
        required=False, label="Walker's perceived group (for recall by group)"
    )

    def __init__(self, *args, deployment: Deployment, subjects: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entry_id"].choices = subjects
        self.fields["perceived_group"].choices = [("", "—")] + [
            (g, g) for g in settings.LFR_EQUALITY_GROUPS
        ]
        self.fields["camera"].queryset = deployment.cameras.all()


class ReviewForm(forms.Form):
    review = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "address", "latitude", "longitude"]
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}


class CameraForm(forms.ModelForm):
    class Meta:
        model = Camera
        fields = ["name", "site", "stream_url", "enabled", "loop"]
        help_texts = {
            "stream_url": "rtsp://…, http(s)://… (MJPEG), or a file path inside the camera folder.",
            "loop": "File sources only: play the file in a loop.",
        }

    def clean_stream_url(self):
        # The service's rule, so the page shows it on the field (and answers 400).
        return camera_validate_stream_url(self.cleaned_data["stream_url"])


class NoticeSentForm(forms.Form):
    """That the notice of this use went to one configured authority (Art. 5(4))."""

    authority = forms.ChoiceField(choices=())
    reference = forms.CharField(
        required=False,
        max_length=200,
        label="Their reference or how it was sent (optional)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["authority"].choices = [
            (name, f"{name} ({kind.replace('_', ' ')})")
            for kind, name in settings.LFR_NOTICE_AUTHORITIES
        ]


class PublicNoticeForm(forms.Form):
    """The authorising officer's decision on advance public notice."""

    publish = forms.TypedChoiceField(
        choices=[("yes", "Announce it in advance"), ("no", "Do not announce it")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        label="Advance public notice",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
        label="Reason for no advance notice (kept in the audit log, never published)",
    )


class IndependentDecisionForm(forms.Form):
    """The independent authority's decision on one deployment (EU AI Act Art. 5(3))."""

    authority = forms.ChoiceField(choices=())
    reference = forms.CharField(max_length=120, label="Their reference")
    decided_at = forms.DateTimeField(
        label="Decided at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    outcome = forms.ChoiceField(choices=(("granted", "Granted"), ("refused", "Refused")))
    scope_window = forms.CharField(required=False, max_length=1000, label="Time window granted")
    scope_place = forms.CharField(required=False, max_length=1000, label="Place granted")
    scope_targets = forms.CharField(
        required=False, max_length=2000, label="Targeted persons or watchlist criteria"
    )
    conditions = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Binding conditions",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["authority"].choices = [(n, n) for n in settings.LFR_INDEPENDENT_AUTHORITIES]


class AssessmentForm(forms.Form):
    """A newly approved version of a force-wide assessment."""

    kind = forms.ChoiceField(choices=())
    reference = forms.CharField(max_length=120, label="Reference or registration id")
    version = forms.CharField(max_length=20)
    owner = forms.CharField(max_length=200, label="Owner (post answerable for it)")
    review_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Assessment.Kind.choices
