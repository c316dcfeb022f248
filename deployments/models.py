from django.conf import settings
from django.db import models


class UseCase(models.TextChoices):
    # The use cases listed in the Met's LFR policy document.
    CRIME_HOTSPOT = "crime_hotspot", "Crime hotspot"
    MISSING_PERSONS = "missing_persons", "Missing persons"
    CRITICAL_INFRASTRUCTURE = "critical_infrastructure", "Protection of critical infrastructure"
    EVENT_PROTECTION = "event_protection", "Event protection"
    SPECIFIC_INTELLIGENCE = "specific_intelligence", "Specific intelligence"


class Site(models.Model):
    """A place where cameras can be deployed."""

    name = models.CharField(max_length=200, unique=True)
    address = models.TextField(blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    def __str__(self):
        return self.name


class Camera(models.Model):
    """A video source (RTSP, HTTP MJPEG, or a file inside LFR_CAMERA_FILE_ROOT)."""

    name = models.CharField(max_length=200, unique=True)
    stream_url = models.CharField(max_length=500)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="cameras")
    enabled = models.BooleanField(default=True)
    # File sources only: play the file in a loop (the demo camera).
    loop = models.BooleanField(default=False)

    def __str__(self):
        return self.name


class Deployment(models.Model):
    """One planned use of LFR at a site and time, with its authority and its lifecycle."""

    class Verification(models.TextChoices):
        # How many officers must separately verify an alert before anyone acts on it.
        ONE = "one", "One officer"
        TWO = "two", "Two officers, separately (EU AI Act Art. 14(5))"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for authorisation"
        AUTHORISED = "authorised", "Authorised"
        REFUSED = "refused", "Refused"
        LIVE = "live", "Live"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    reference = models.CharField(max_length=40, unique=True)
    use_case = models.CharField(max_length=30, choices=UseCase.choices)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="deployments")
    cameras = models.ManyToManyField(Camera, related_name="deployments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    necessity = models.TextField()
    proportionality = models.TextField()
    location_rationale = models.TextField()
    watchlist_categories = models.JSONField(default=list)  # keys of watchlists.Category
    max_watchlist_size = models.PositiveIntegerField()
    include_minors = models.BooleanField(default=False)
    minors_reason = models.TextField(blank=True)
    # Blue-list testing: the approved test subjects (staff volunteers) join the frozen
    # watchlist, their alerts are marked as tests, and the record reports the live
    # true-positive rate from the walk-throughs recorded (Walkthrough).
    include_test_subjects = models.BooleanField(default=False)
    threshold = models.FloatField(help_text="maximum dlib face distance that alerts")
    dpia_reference = models.CharField(max_length=120, blank=True)
    policy_reference = models.CharField(max_length=120, blank=True)
    equality_reference = models.CharField(max_length=120, blank=True)
    public_notice = models.BooleanField(default=True)
    no_notice_reason = models.TextField(blank=True)
    urgent = models.BooleanField(default=False)
    # "one" for rows from before the choice existed: their alerts were decided by one
    # officer. New plans take deployments.services.planning's default (the setting).
    verification = models.CharField(
        max_length=3, choices=Verification.choices, default=Verification.ONE
    )
    # Set from LFR_INDEPENDENT_AUTHORISATION when planned, so a change of setting never
    # alters what an existing deployment needs (EU AI Act Art. 5(3)).
    independent_authorisation_required = models.BooleanField(default=False)
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.DRAFT, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    authorised_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    # The refused plan this one revises: the refusal stays on that row, and each version
    # links back to the one before it.
    revises = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="revision"
    )
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="assigned_deployments"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    # The actual end (see `actual_end`): camera bookings, the snapshot's destruction and
    # the published duration all count from here, never from the planned `ends_at`.
    ended_at = models.DateTimeField(null=True, blank=True)
    # Why it ended or was cancelled (scheduled end, stopped early, lapsed urgent start...).
    end_reason = models.TextField(blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set when an urgent start lapsed unauthorised and its alerts and snapshot were deleted.
    purged_at = models.DateTimeField(null=True, blank=True)
    # Counters only: the number of faces seen survives, the faces never do.
    faces_seen = models.BigIntegerField(default=0)
    # Last per-deployment alert sequence number handed out (see recognition.Alert.seq).
    last_alert_seq = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return self.reference

    @property
    def actual_end(self):
        """When it stopped holding its cameras: `ended_at` once it has ended (stopped
        early, completed, cancelled), else the planned end."""
        return self.ended_at or self.ends_at


class DeploymentWatchlist(models.Model):
    """The watchlist frozen at authorisation; its encodings are destroyed after the end."""

    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, related_name="watchlist"
    )
    frozen_at = models.DateTimeField()
    # One element per ENCODING ROW, not per entry: an entry with three reference images
    # appears three times, so row i of `encodings` belongs to entry_ids[i] and
    # subject_references[i]. The id list is kept after the encodings are destroyed.
    entry_ids = models.JSONField(default=list)
    subject_references = models.JSONField(default=list)  # aligned with entry_ids (per row)
    # float32 matrix, len(entry_ids) x 128, row-major; null once destroyed.
    encodings = models.BinaryField(null=True)
    # Distinct ENTRIES per category (what "watchlist size" means here), and the total.
    size_by_category = models.JSONField(default=dict)
    entry_count = models.PositiveIntegerField(default=0)
    # Entries left out because the subject was under 18 at freezing time (a count only).
    excluded_minors = models.PositiveIntegerField(default=0)
    # Distinct entry ids of the test subjects frozen in (blue-list testing): not counted
    # in size_by_category or entry_count; an alert on one of them is a test.
    test_entry_ids = models.JSONField(default=list)
    destroyed_at = models.DateTimeField(null=True, blank=True)


class Walkthrough(models.Model):
    """A blue-list walk-through: a test subject walked past a camera in a time window.

    Detected when the deployment raised an alert on that subject seen within the window
    (on that camera, if one is named): the live true-positive rate's one honest measure.
    """

    deployment = models.ForeignKey(
        Deployment, on_delete=models.PROTECT, related_name="walkthroughs"
    )
    # Kept by id like Alert.entry_id: the test entry may be purged, the walk is kept.
    entry_id = models.BigIntegerField()
    subject_reference = models.CharField(max_length=64)
    camera = models.ForeignKey(
        Camera, null=True, blank=True, on_delete=models.PROTECT, related_name="walkthroughs"
    )  # null = any of the deployment's cameras
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    note = models.TextField(blank=True)
    # The walker's perceived group (settings.LFR_EQUALITY_GROUPS), optional: recall by
    # group, the inequality that paused a force's field test (Essex, 2026).
    perceived_group = models.CharField(max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["started_at", "pk"]


class DeploymentRecord(models.Model):
    """The published record of a finished deployment (the Met's fields) and its review."""

    deployment = models.OneToOneField(Deployment, on_delete=models.CASCADE, related_name="record")
    computed_at = models.DateTimeField()
    fields = models.JSONField(default=dict)  # keyed by the Met's published field names
    # Alerts nobody adjudicated when the record was computed: published beside the Met's
    # fields, because they are in "Total Alerts" but in none of its true/false kinds.
    not_adjudicated = models.PositiveIntegerField(default=0)
    # Computed and frozen with `fields`, for the annual report: arrests by watchlist category
    # and decided / false alerts by perceived group, so a year's totals are sums of records.
    breakdown = models.JSONField(default=dict, blank=True)
    # Blue-list testing, beside the Met's fields: walk-throughs, detected, the live
    # true-positive rate and its 95 % Wilson interval; {} when no walk was recorded.
    blue_list = models.JSONField(default=dict)
    # How its alerts were verified (EU AI Act Art. 14(5)), counted when computed:
    # {"verified": n, "single_verified": n, "disagreed": n} (recognition.selectors.
    # verification_figures); empty for a record computed before verification existed.
    verification = models.JSONField(default=dict)
    review = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)


class IndependentAuthorisation(models.Model):
    """A judicial or independent administrative authority's decision on one deployment
    (EU AI Act Art. 5(3)): binding, limited in time, place and persons."""

    class Outcome(models.TextChoices):
        GRANTED = "granted", "Granted"
        REFUSED = "refused", "Refused"

    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="independent_authorisations"
    )
    authority = models.CharField(max_length=200)  # one of LFR_INDEPENDENT_AUTHORITIES
    reference = models.CharField(max_length=120)
    decided_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    scope_window = models.TextField(blank=True)
    scope_place = models.TextField(blank=True)
    scope_targets = models.TextField(blank=True)  # targeted persons or watchlist criteria
    conditions = models.TextField(blank=True)  # binding conditions
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-pk"]


class Assessment(models.Model):
    """One version of a force-wide assessment or document the activation gate relies on:
    DPIA, appropriate policy document, equality impact assessment, fundamental-rights
    impact assessment (Art. 27) or EU database registration (Art. 49)."""

    class Kind(models.TextChoices):
        DPIA = "dpia", "Data protection impact assessment"
        POLICY = "policy", "Appropriate policy document"
        EQUALITY = "equality", "Equality impact assessment"
        FRIA = "fria", "Fundamental-rights impact assessment (AI Act Art. 27)"
        EU_REGISTRATION = "eu_registration", "EU database registration (AI Act Art. 49)"

    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    reference = models.CharField(max_length=120)  # document reference or registration id
    version = models.CharField(max_length=20)
    owner = models.CharField(max_length=200)  # the post answerable for it
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField()
    review_date = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-approved_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference", "version"], name="assessment_version_unique"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference} v{self.version}"
