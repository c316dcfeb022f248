"""The use log in the shape EU AI Act Art. 12(3) asks of remote biometric identification:
for each use its start and end, the reference database it was checked against, the input
that matched, and who verified each match. Counts and references only: no face data."""

from django.db.models import Q

from core.exports import iso_time
from deployments.models import Camera, Deployment, DeploymentWatchlist
from recognition.models import Alert
from recognition.selectors import alert_verifiers, decisions_in_force

ART12_COLUMNS = [
    "deployment_reference",
    "use_started_at",
    "use_ended_at",
    "reference_database",
    "reference_database_frozen_at",
    "reference_database_entries",
    "reference_database_destroyed_at",
    "alert_seq",
    "matched_at",
    "camera",
    "matched_entry_id",
    "matched_subject_reference",
    "distance",
    "threshold",
    "sightings",
    "decision",
    "outcome",
    "verified_by",
]


def _iso(moment):
    return iso_time(moment, timespec="seconds") or ""


def _decision(is_true, confirmed) -> str:
    if is_true is None:
        return "not adjudicated"
    return f"{'true' if is_true else 'false'} {'confirmed' if confirmed else 'unconfirmed'}"


def art12_log(*, since=None, until=None) -> list[dict]:
    """One row per match of each use that overlaps [since, until) (a use without a match
    has one row with the match columns empty), in start order."""
    uses = Deployment.objects.filter(started_at__isnull=False).select_related("site")
    if since:
        uses = uses.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=since))
    if until:
        uses = uses.filter(started_at__lt=until)
    uses = list(uses.order_by("started_at", "pk"))
    snapshots = {
        w.deployment_id: w
        for w in DeploymentWatchlist.objects.filter(deployment__in=uses).defer(
            "encodings", "subject_references"
        )
    }
    alerts = list(
        Alert.objects.filter(deployment__in=uses).defer("crop").order_by("deployment_id", "seq")
    )
    verifiers = alert_verifiers(a.pk for a in alerts)
    decisions = {
        alert_id: (is_true, confirmed, outcome)
        for alert_id, is_true, confirmed, outcome in decisions_in_force()
        .filter(alert__in=alerts)
        .values_list("alert_id", "is_true_match", "confirmed", "outcome")
    }
    cameras = dict(Camera.objects.values_list("pk", "name"))
    by_use: dict[int, list] = {}
    for a in alerts:
        by_use.setdefault(a.deployment_id, []).append(a)
    rows = []
    for d in uses:
        wl = snapshots.get(d.pk)
        use = {
            "deployment_reference": d.reference,
            "use_started_at": _iso(d.started_at),
            "use_ended_at": _iso(d.ended_at),
            "reference_database": (
                f"watchlist frozen for {d.reference} (snapshot {wl.pk}; categories "
                f"{', '.join(d.watchlist_categories)})"
                if wl
                else "none frozen"
            ),
            "reference_database_frozen_at": _iso(wl.frozen_at) if wl else "",
            "reference_database_entries": wl.entry_count if wl else "",
            "reference_database_destroyed_at": _iso(wl.destroyed_at) if wl else "",
        }
        matches = by_use.get(d.pk) or [None]
        for a in matches:
            if a is None:
                rows.append({**use, **dict.fromkeys(ART12_COLUMNS[7:], "")})
                continue
            is_true, confirmed, outcome = decisions.get(a.pk, (None, None, ""))
            rows.append(
                {
                    **use,
                    "alert_seq": a.seq,
                    "matched_at": _iso(a.frame_at),
                    "camera": cameras.get(a.camera_id, ""),
                    "matched_entry_id": a.entry_id,
                    "matched_subject_reference": a.subject_reference,
                    "distance": round(a.distance, 4),
                    "threshold": a.threshold,
                    "sightings": a.sightings,
                    "decision": _decision(is_true, confirmed),
                    "outcome": outcome,
                    "verified_by": "; ".join(verifiers.get(a.pk, [])),
                }
            )
    return rows
