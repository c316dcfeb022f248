from django.conf import settings
from django.db import models


class Capability(models.Model):
    """Anchor for the role capabilities (no rows: only its permissions are used)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("plan_deployment", "Plan and submit deployments"),
            ("authorise_deployment", "Authorise or refuse deployments"),
            ("submit_watchlist_entry", "Propose watchlist entries"),
            ("approve_watchlist_entry", "Approve, reject and expire watchlist entries"),
            ("watch_alerts", "Watch and adjudicate alerts of assigned deployments"),
            ("read_all", "Read every record, the audit log and the reports"),
            ("view_audit", "Read the audit log"),
            ("manage_cameras", "Register sites and cameras, manage users"),
            ("place_legal_hold", "Place and lift legal holds on alerts"),
        ]


class AuditEvent(models.Model):
    """One append-only, hash-chained record of who did what to which record, and why."""

    OUTCOME_ALLOWED = "allowed"
    OUTCOME_DENIED = "denied"
    OUTCOMES = [(OUTCOME_ALLOWED, "allowed"), (OUTCOME_DENIED, "denied")]

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    # The actor is kept by id and name, not by foreign key: deleting or renaming a user
    # must never rewrite (and so break) the chain.
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True, db_index=True)
    object_id = models.CharField(max_length=80, blank=True)
    outcome = models.CharField(max_length=10, choices=OUTCOMES, default=OUTCOME_ALLOWED)
    purpose = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_addr = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    # HMAC-SHA256 under LFR_AUDIT_KEY of prev_hash + the row; for a row written before the
    # chain was keyed (key_id ""), the plain SHA-256 it was written with.
    hash = models.CharField(max_length=64, unique=True)
    # Which key sealed the row (a fingerprint, never the key): names a wrong key plainly.
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["-seq"]
        default_permissions = ("view",)

    def __str__(self):
        return f"#{self.seq} {self.actor_username or 'system'} {self.action} {self.outcome}"


class LoginThrottle(models.Model):
    """Consecutive failed logins per username, and the lock they caused."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Attempts refused while locked: counted here, audited at 1, 10, 100, ... and in full
    # at the next successful login, so a flood writes a handful of rows, not one each.
    refused = models.PositiveIntegerField(default=0)


class LoginAddressThrottle(models.Model):
    """Failed logins from one client address in the current window, and the block they
    caused: one address may not lock out account after account."""

    address = models.CharField(max_length=64, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    refused = models.PositiveIntegerField(default=0)


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker said it was alive (for the health page)."""

    hostname = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()
    queues = models.CharField(max_length=200, blank=True)


class Notice(models.Model):
    """A message to one user about work that concerns them (assigned, live, decided)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)  # e.g. "deployment.assigned"
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_unread")]


class ApiToken(models.Model):
    """A revocable key an integration uses for the API, acting as its own service user.

    Only a hash of the key is kept; the key itself is shown once, when it is created.
    """

    name = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=40)  # a core.access role name
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token"
    )
    prefix = models.CharField(max_length=12, unique=True)  # shown in lists; finds the row
    key_hash = models.CharField(max_length=64)  # sha256 of the whole key
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class TaskRun(models.Model):
    """How each Celery task last ended, per task name: the health page's background jobs."""

    name = models.CharField(max_length=200, unique=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # the exception's type and message, no payload
    failures = models.PositiveIntegerField(default=0)  # since it last succeeded


class UploadJob(models.Model):
    """Work started from a page on an uploaded archive and run by a worker: who started it,
    its state and progress (abstract: the bulk import and the evaluation each add theirs).

    The upload is held only until the worker has read it, then cleared (`archive`)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    source_name = models.CharField(max_length=200)
    archive = models.BinaryField(null=True)  # the upload until read; then null
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0

    def status(self, **extra) -> dict:
        """What the job page polls (`?format=json`)."""
        return {
            "state": self.state,
            "processed": self.processed,
            "total": self.total,
            "percent": self.percent,
            "error": self.error,
            **extra,
        }
