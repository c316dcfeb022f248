"""An alert's wire shape: the one definition the console's socket and the API both send.

`alert_data(alerts, purpose=..., viewer=...)` is how callers use it: it reads what the
cards need beyond the alert rows (camera names, the subject's context) once for the whole
batch. No biometric data: images are links, fetched (and audited, with the purpose) one
by one. One part depends on who reads it: `verification` (two-person deployments) shows
the viewer their own verification and nobody else's until both are recorded.
"""

from urllib.parse import urlencode

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deployments.models import Camera
from recognition.models import Adjudication, Alert
from recognition.selectors import VerificationState, match_wording, verification_view
from watchlists.models import WatchlistEntry


class DecisionSerializer(serializers.ModelSerializer):
    """The decision in force on an alert, as the console shows it."""

    outcome_label = serializers.SerializerMethodField()
    by = serializers.SerializerMethodField()
    is_correction = serializers.SerializerMethodField()

    class Meta:
        model = Adjudication
        fields = [
            "id",
            "is_true_match",
            "confirmed",
            "outcome",
            "outcome_label",
            "note",
            "perceived_group",
            "by",
            "at",
            "is_correction",
        ]

    def get_outcome_label(self, adj) -> str:
        return Adjudication.Outcome(adj.outcome).label

    def get_by(self, adj) -> str:
        return adj.by.get_username()

    def get_is_correction(self, adj) -> bool:
        return adj.corrects_id is not None


class VerificationRowSerializer(serializers.Serializer):
    """One officer's verification, shown once both are recorded (or to its own officer)."""

    by = serializers.CharField()
    at = serializers.DateTimeField()
    is_true_match = serializers.BooleanField()
    note = serializers.CharField()


class AlertVerificationSerializer(serializers.Serializer):
    """Two-person verification as the viewer may see it (recognition.selectors)."""

    required = serializers.IntegerField()
    state = serializers.ChoiceField(choices=VerificationState.ALL)
    label = serializers.CharField()
    count = serializers.IntegerField()
    mine = VerificationRowSerializer(allow_null=True)
    verifications = VerificationRowSerializer(many=True)
    cursor = serializers.IntegerField()


class SubjectSerializer(serializers.Serializer):
    """Who the alert is about and why they are wanted: no intelligence, no legal basis.

    Read from the entry the frozen watchlist row points at; null once it is purged.
    """

    reference = serializers.CharField()
    display_name = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    case_reference = serializers.CharField()


class AlertSerializer(serializers.ModelSerializer):
    """One alert (from `recognition.console.console_alerts()`) as a card shows it.

    Context: `purpose` (given to every image link), `cameras` {id: name}, `subjects`
    {entry id: subject context} and `viewer` (whose verification view); `alert_data()`
    fills them.
    """

    camera = serializers.SerializerMethodField()
    cameras = serializers.SerializerMethodField()
    distance = serializers.SerializerMethodField()
    threshold = serializers.SerializerMethodField()
    match = serializers.SerializerMethodField()
    time = serializers.DateTimeField(source="created_at")
    crop_url = serializers.SerializerMethodField()
    reference_url = serializers.SerializerMethodField()
    adjudicate_url = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()
    verify_url = serializers.SerializerMethodField()
    verification = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "seq",
            "changed_seq",
            "id",
            "camera",
            "cameras",
            "subject_reference",
            "subject",
            "distance",
            "threshold",
            "match",
            "sightings",
            "time",
            "frame_at",
            "last_seen_at",
            "crop_url",
            "reference_url",
            "adjudicate_url",
            "decision",
            "is_test",
            "verify_url",
            "verification",
        ]

    def _query(self) -> str:
        return urlencode({"purpose": self.context["purpose"]})

    def get_camera(self, alert) -> str:
        return alert.camera.name

    def get_cameras(self, alert) -> list[str]:
        names = self.context.get("cameras", {})
        return [names.get(pk, f"camera {pk}") for pk in alert.camera_ids or [alert.camera_id]]

    def get_distance(self, alert) -> float:
        return round(alert.distance, 3)

    def get_threshold(self, alert) -> float:
        return round(alert.threshold, 3)

    def get_match(self, alert) -> str:
        return match_wording(alert.distance, alert.threshold)

    def get_crop_url(self, alert) -> str:
        if not alert.has_crop:
            return ""
        return f"{reverse('recognition:alert_crop', args=[alert.pk])}?{self._query()}"

    def get_reference_url(self, alert) -> str:
        return f"{reverse('recognition:alert_reference', args=[alert.pk])}?{self._query()}"

    def get_adjudicate_url(self, alert) -> str:
        return reverse("recognition:adjudicate", args=[alert.pk])

    def get_verify_url(self, alert) -> str:
        return reverse("recognition:verify", args=[alert.pk])

    @extend_schema_field(AlertVerificationSerializer(allow_null=True))
    def get_verification(self, alert) -> dict | None:
        return verification_view(alert, self.context.get("viewer"))

    @extend_schema_field(SubjectSerializer(allow_null=True))
    def get_subject(self, alert) -> dict | None:
        return self.context.get("subjects", {}).get(alert.entry_id)

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, alert) -> dict | None:
        in_force = getattr(alert, "in_force", None)
        return DecisionSerializer(in_force[0]).data if in_force else None


def subject_context(entry_ids) -> dict[int, dict]:
    """{entry id: display name, category and case reference} for an alert card."""
    rows = WatchlistEntry.objects.filter(pk__in=set(entry_ids)).select_related("subject")
    return {
        e.pk: {
            "reference": e.subject.reference,
            "display_name": e.subject.display_name,
            "category": e.category,
            "category_label": e.get_category_display(),
            "case_reference": e.case_reference,
        }
        for e in rows
    }


def alert_data(alerts, *, purpose: str, viewer=None) -> list[dict]:
    """The wire shape of `alerts` (from console_alerts()) as `viewer` may see them."""
    alerts = list(alerts)
    if not alerts:
        return []
    camera_ids = {pk for a in alerts for pk in (a.camera_ids or [a.camera_id])}
    context = {
        "purpose": purpose,
        "cameras": dict(Camera.objects.filter(pk__in=camera_ids).values_list("pk", "name")),
        "subjects": subject_context(a.entry_id for a in alerts),
        "viewer": viewer,
    }
    return [dict(item) for item in AlertSerializer(alerts, many=True, context=context).data]


def for_viewer(alerts, data: list[dict], viewer) -> list[dict]:
    """`data` (alert_data of `alerts`, read once for many sockets) as `viewer` sees it.

    The rest of the wire shape is the same for every watcher; only the verification view
    is per viewer, and it is re-derived here from the rows already read (no query).
    """
    return [
        {**item, "verification": verification_view(alert, viewer)}
        for alert, item in zip(alerts, data, strict=True)
    ]
