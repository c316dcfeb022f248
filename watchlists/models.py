from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.models import UploadJob

ADULT_AGE = 18


def born_after_is_minor(today: date) -> date:
    """The one under-18 rule: a subject born after this date is under 18 on `today`.

    An unknown birth date counts as adult. Someone born on 29 February turns 18 on
    1 March in a year without one.
    """
    try:
        return today.replace(year=today.year - ADULT_AGE)
    except ValueError:  # today is 29 February; that day 18 years ago did not exist
        return today.replace(year=today.year - ADULT_AGE, day=28)


def image_age_days(taken_on: date | None, today: date) -> int | None:
    """Whole days since a reference image was taken; None when the date is not known."""
    return None if taken_on is None else (today - taken_on).days


def image_is_stale(taken_on: date | None, today: date) -> bool:
    """The one image-age rule: older than LFR_IMAGE_MAX_AGE_DAYS, or of unknown age.

    APP asks for "the most recent suitable image": an image we cannot date cannot be
    shown to be recent, so it is flagged like an old one (a prompt, not a refusal).
    """
    days = image_age_days(taken_on, today)
    return days is None or days > settings.LFR_IMAGE_MAX_AGE_DAYS


class Category(models.TextChoices):
    # A fixed list with no catch-all: "other persons where intelligence is required" is what
    # the Court of Appeal struck down in Bridges v South Wales Police (¶124).
    WANTED = "wanted", "Wanted by police or courts"
    SUSPECT = "suspect", "Suspected of an offence"
    MISSING = "missing", "Missing or vulnerable person"
    RISK_OF_HARM = "risk_of_harm", "Risk of harm to self or others"


class Subject(models.Model):
    """A person who may be placed on watchlists, known by an internal reference."""

    reference = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["reference"]

    def __str__(self):
        return f"{self.reference} {self.display_name}"

    def is_under_18_on(self, today: date) -> bool:
        dob = self.date_of_birth
        return dob is not None and dob > born_after_is_minor(today)

    @property
    def age(self) -> int | None:
        """Whole years today in the force's time zone; None when no date of birth is held."""
        dob, today = self.date_of_birth, timezone.localdate()
        if dob is None:
            return None
        return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))

    @property
    def is_under_18(self) -> bool:
        # Pages and the API ask about today in the force's time zone (TIME_ZONE).
        return self.is_under_18_on(timezone.localdate())


class WatchlistEntry(models.Model):
    """A proposal, then a decision, to hold one subject's images on watchlists, and why."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="entries")
    category = models.CharField(max_length=20, choices=Category.choices)
    legal_basis = models.TextField()
    case_reference = models.CharField(max_length=120)
    provenance = models.TextField()
    # Blue-list testing: a staff volunteer enrolled (with consent as the legal basis) so
    # that a deployment that opts in can measure its live true-positive rate. Never in an
    # operational count or watchlist; approved by the same two-person rule.
    is_test_subject = models.BooleanField(default=False)
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.PENDING, db_index=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    # Why a photo farther than the same-person bound from the subject's other photos is
    # held as the same person (taken decades apart, say); blank when all photos agree.
    other_person_reason = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    review_due = models.DateField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # expired or withdrawn
    purged_at = models.DateTimeField(null=True, blank=True)  # images and encodings deleted

    class Meta:
        ordering = ["submitted_at"]
        verbose_name_plural = "watchlist entries"

    def __str__(self):
        return f"entry {self.pk} ({self.subject.reference}, {self.category}, {self.state})"


class ReferenceImage(models.Model):
    """One reference photo of an entry, re-encoded from pixels, with its face encoding."""

    entry = models.ForeignKey(WatchlistEntry, on_delete=models.CASCADE, related_name="images")
    # JPEG re-encoded from decoded pixels: no EXIF, GPS or trailing bytes survive.
    jpeg = models.BinaryField(null=True)
    # 128 float32 values (512 bytes) from face_recognition; null once purged.
    encoding = models.BinaryField(null=True)
    pixel_sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    face_px = models.PositiveIntegerField(help_text="height of the face box in pixels")
    sharpness = models.FloatField(help_text="variance of the Laplacian over the face")
    pose_score = models.FloatField(help_text="0 = frontal, 1 = extreme pose")
    # When the photo was taken (not when it was enrolled); null = unknown (bulk imports
    # without a date, images enrolled before this was recorded), shown and flagged as such.
    taken_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    @property
    def age_days(self) -> int | None:
        return image_age_days(self.taken_on, timezone.localdate())

    @property
    def is_stale(self) -> bool:
        return image_is_stale(self.taken_on, timezone.localdate())


class ImportJob(UploadJob):
    """A bulk import started from the page: its progress, and a line per file when done.

    The uploaded archive (the ZIP, or the files) is held only until the worker has read it.
    """

    fields = models.JSONField(default=dict)  # category, legal basis, provenance, case, expiry
    report = models.JSONField(default=list)  # [{subject, file, outcome, detail}]
    totals = models.JSONField(default=dict)

    class Meta(UploadJob.Meta):
        pass
