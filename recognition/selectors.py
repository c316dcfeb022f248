"""Recognition's reads: stream status, and the decision in force on each alert."""

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from recognition.models import Adjudication, Alert, StreamLease


def decisions_in_force():
    """Each decided alert's decision in force: the end of its chain of corrections.

    A decision is recorded once and a correction is a new row pointing at the decision it
    corrects (at most one correction each), so every decided alert has exactly one
    decision that nothing corrects. The console, the published record and the oversight
    reports all count alerts by it.
    """
    return Adjudication.objects.filter(corrected_by__isnull=True)


def alert_figures(deployment) -> dict:
    """The deployment's alerts counted by their decision in force (the published record)."""
    total = Alert.objects.filter(deployment=deployment).count()
    kinds, outcomes = Counter(), Counter()
    decisions = decisions_in_force().filter(alert__deployment=deployment)
    for is_true, confirmed, outcome in decisions.values_list(
        "is_true_match", "confirmed", "outcome"
    ):
        kinds[(is_true, confirmed)] += 1
        outcomes[outcome] += 1
    return {
        "total": total,
        "true_confirmed": kinds[(True, True)],
        "true_unconfirmed": kinds[(True, False)],
        "false_confirmed": kinds[(False, True)],
        "false_unconfirmed": kinds[(False, False)],
        "arrest": outcomes["arrest"],
        "other": outcomes["other"],
        "no_action": outcomes["no_action"],
        "unadjudicated": total - sum(kinds.values()),
    }


def camera_status(deployment) -> list[dict]:
    """One row per camera of the deployment: how its stream is doing right now.

    fps_in counts frames read from the source; fps_processed counts frames the detector
    examined (one in PipelineConfig.detect_every: the tracker carries the others).
    """
    leases = {lease.camera_id: lease for lease in StreamLease.objects.filter(deployment=deployment)}
    cutoff = timezone.now() - timedelta(seconds=settings.LFR_STREAM_LEASE_STALE_SECONDS)
    rows = []
    for camera in deployment.cameras.order_by("name"):
        lease = leases.get(camera.pk)
        beat = lease.heartbeat_at if lease else None
        # Fresh heartbeat = somebody works the camera (a slice, or a hand-over between two).
        working = bool(lease and not lease.stopped and beat is not None and beat >= cutoff)
        rows.append(
            {
                "camera_id": camera.pk,
                "camera": camera.name,
                "enabled": camera.enabled,
                "connected": bool(working and lease.connected),
                "fps_in": lease.fps_in if working else 0.0,
                "fps_processed": lease.fps_processed if working else 0.0,
                "frames_in": lease.frames_in if lease else 0,
                "frames_processed": lease.frames_processed if lease else 0,
                "faces_seen": lease.faces_seen if lease else 0,
                "last_frame_at": lease.last_frame_at if lease else None,
                "last_error": lease.last_error if lease else "",
                "holder": lease.holder if lease else "",
                "heartbeat_at": beat,
                # Silent too long: the worker probably died; the supervisor will reassign.
                "stale": bool(lease and not lease.stopped and beat is not None and not working),
                "stopped": bool(lease and lease.stopped),
                "slices": lease.slice_no if lease else 0,
            }
        )
    return rows


# --- what waits (the home page and navigation badges, through core.work) ---------------


def waiting_for(user) -> list:
    """Alerts the officer must still decide, per deployment they are assigned to."""
    from django.db.models import Count
    from django.urls import reverse

    from core import access
    from core.work import FIRST_ITEMS, Waiting
    from deployments.models import Deployment

    if not access.can(user, "console", "list"):
        return []
    undecided = (
        Deployment.objects.filter(officers=user)
        .filter(alerts__adjudications__isnull=True)
        .annotate(n=Count("alerts", distinct=True))
        .order_by("-n", "pk")
    )
    rows = [d for d in undecided if access.can(user, "deployment", "adjudicate", d)]
    return [
        Waiting(
            key="alert.undecided",
            label="alerts wait for your decision",
            count=sum(d.n for d in rows),
            url=reverse("recognition:consoles"),
            nav="recognition:consoles",
            urgent=any(d.state == Deployment.State.LIVE for d in rows),
            items=[
                (f"{d.n} on {d.reference}", reverse("recognition:console", args=[d.pk]))
                for d in rows[:FIRST_ITEMS]
            ],
        )
    ]
