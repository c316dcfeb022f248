from django.conf import settings
from django.db import models

from core.models import UploadJob
from deployments.models import Camera, Deployment


class StreamLease(models.Model):
    """Which worker processes a live deployment's camera now, and how the stream is doing."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="leases")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="leases")
    holder = models.CharField(max_length=200, blank=True)  # worker id; blank = free
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    slice_no = models.PositiveIntegerField(default=0)
    # Where a file source resumes after a hand-over (frame index).
    position = models.BigIntegerField(default=0)
    connected = models.BooleanField(default=False)
    frames_in = models.BigIntegerField(default=0)
    frames_processed = models.BigIntegerField(default=0)
    fps_in = models.FloatField(default=0)
    fps_processed = models.FloatField(default=0)
    faces_seen = models.BigIntegerField(default=0)
    last_frame_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    stopped = models.BooleanField(default=False)
    # Health, written by the stream worker at each heartbeat and read by the cameras page,
    # the health page, the console and the API.
    frames_dropped = models.BigIntegerField(default=0)  # read but not analysed (behind)
    reconnects = models.PositiveIntegerField(default=0)
    latency_p95_ms = models.FloatField(null=True, blank=True)  # capture -> processed
    source_fps = models.FloatField(default=0)  # what the camera delivers nominally
    degraded = models.BooleanField(default=False)  # cannot be analysed at real time
    # Of the frames the detector wanted over the last few heartbeats, the share analysed
    # (1.0 = real time); None before any frame.
    realtime_share = models.FloatField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "camera"], name="one_lease_per_camera")
        ]


class StreamWorker(models.Model):
    """A stream worker's runner and how many cameras it serves; gone when it stops or dies."""

    name = models.CharField(max_length=200, unique=True)  # holder_id: host/pid/token
    serving = models.PositiveIntegerField(default=0)
    capacity = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField()


class Alert(models.Model):
    """A possible match: a probe face within the deployment's threshold of a watchlist entry."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="alerts")
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="alerts")
    # Both from the deployment's alert counter (Deployment.last_alert_seq): `seq` when the
    # alert was raised, `changed_seq` when it last changed (a new sighting). A console that
    # has shown everything up to n knows the alerts with seq <= n and must be told of
    # those with changed_seq > n: the replay cursor.
    seq = models.BigIntegerField()
    changed_seq = models.BigIntegerField(default=0)
    # Kept by id: the entry may be purged while the alert is retained.
    entry_id = models.BigIntegerField()
    subject_reference = models.CharField(max_length=64)
    distance = models.FloatField()
    threshold = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    frame_at = models.DateTimeField()
    track_id = models.CharField(max_length=64)
    crop = models.BinaryField(null=True)  # JPEG of the matched probe face; null once purged
    # One alert per sighting: repeated matches of the same entry at the deployment within
    # LFR_SIGHTING_WINDOW_SECONDS of the last one update this row (recognition.services.
    # alerts.alert_raise). `distance` and `crop` are those of the closest match.
    sightings = models.PositiveIntegerField(default=1)
    last_seen_at = models.DateTimeField(null=True)  # frame time of the latest sighting
    camera_ids = models.JSONField(default=list)  # every camera it was seen on, first first
    # A match of a blue-list test subject (a staff volunteer): recorded as a test, never
    # acted on, and left out of the operational figures (recognition.selectors).
    is_test = models.BooleanField(default=False)
    legal_hold = models.BooleanField(default=False)
    hold_reason = models.TextField(blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-seq"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "seq"], name="alert_seq_per_deployment")
        ]
        indexes = [
            models.Index(fields=["deployment", "changed_seq"], name="alert_changed_seq"),
            models.Index(fields=["deployment", "entry_id", "last_seen_at"], name="alert_open"),
        ]


class Adjudication(models.Model):
    """An officer's decision on an alert; a correction is a new row pointing at the first."""

    class Outcome(models.TextChoices):
        ARREST = "arrest", "Arrest"
        OTHER = "other", "Other"
        NO_ACTION = "no_action", "No action"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="adjudications")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    is_true_match = models.BooleanField()
    confirmed = models.BooleanField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    note = models.TextField(blank=True)
    # Optional, for equality monitoring (settings.LFR_EQUALITY_GROUPS).
    perceived_group = models.CharField(max_length=60, blank=True)
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )

    class Meta:
        ordering = ["at"]
        constraints = [
            # A decision is recorded once; anything later is a correction pointing at it.
            models.UniqueConstraint(
                fields=["alert"],
                condition=models.Q(corrects__isnull=True),
                name="one_first_decision_per_alert",
            )
        ]


class Verification(models.Model):
    """One officer's own check of an alert on a two-person deployment: true or false match.

    EU AI Act Art. 14(5): no action on a match unless two competent, authorised people have
    separately verified it. The decision with its outcome (Adjudication) waits for two of
    these, by different officers; the constraint makes "the same officer twice" impossible
    however the requests race.
    """

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="verifications")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    is_true_match = models.BooleanField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "by"], name="one_verification_per_officer")
        ]


class EvaluationRun(models.Model):
    """One accuracy measurement of the engine: labelled pairs (1:1) or searches (1:N)."""

    class Kind(models.TextChoices):
        PAIRS = "pairs", "Pairs (1:1)"
        IDENTIFICATION = "identification", "Identification (1:N, open set)"

    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PAIRS)
    dataset = models.TextField()  # what the pairs are and where they came from
    pairs = models.PositiveIntegerField()  # pairs, or searches (mated + non-mated) for 1:N
    # 1:N only: identities, mated / non-mated searches, comparisons, intervals' method.
    summary = models.JSONField(default=dict, blank=True)
    operating_threshold = models.FloatField()
    thresholds = models.JSONField(default=list)  # [{threshold, tpr, fpr, accuracy}]
    operating_point = models.JSONField(default=dict)
    no_face = models.JSONField(default=list)


class EvaluationJob(UploadJob):
    """An evaluation started from the accuracy page: its progress, then the run it stored.

    The uploaded ZIP (images and pairs.csv) is held only until the worker has read it.
    """

    pairs = models.PositiveIntegerField(default=0)
    run = models.ForeignKey(EvaluationRun, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(UploadJob.Meta):
        pass


class AlertDeletion(models.Model):
    """One deletion of alerts with their decisions, written by the database's own function.

    On PostgreSQL only `recognition_alerts_delete()` (SECURITY DEFINER, owned by the owner)
    deletes alerts, adjudications and verifications, and it writes this row as it does;
    the app role may read it, never write or delete it (core/audit_db.py). So evidence
    cannot leave the database without a receipt naming the database role that asked.
    """

    at = models.DateTimeField()
    db_user = models.CharField(max_length=128)
    reason = models.CharField(max_length=200)
    alert_ids = models.JSONField(default=list)
    alerts = models.PositiveIntegerField()
    adjudications = models.PositiveIntegerField()
    verifications = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at"]
