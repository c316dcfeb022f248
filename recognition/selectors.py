"""Recognition's reads: stream status, and the decision in force on each alert."""

from collections import Counter

from django.utils import timezone

from recognition.health import deployment_camera_health
from recognition.models import Adjudication, Alert


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
    # Blue-list test alerts (staff volunteers) are measured by their walk-throughs
    # (deployments.selectors.blue_list), never counted as operational alerts.
    total = Alert.objects.filter(deployment=deployment, is_test=False).count()
    kinds, outcomes = Counter(), Counter()
    decisions = decisions_in_force().filter(alert__deployment=deployment, alert__is_test=False)
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


def alert_verifiers(alert_ids) -> dict[int, list[str]]:
    """Who verified each alert (EU AI Act Art. 12(3)(d)): the usernames of the officers who
    recorded its decisions and corrections, first first. The one place the logs ask, so a
    second, independent verification joins the list here."""
    found: dict[int, list[str]] = {}
    rows = (
        Adjudication.objects.filter(alert_id__in=list(alert_ids))
        .order_by("at", "pk")
        .values_list("alert_id", "by__username")
    )
    for alert_id, username in rows:
        names = found.setdefault(alert_id, [])
        if username not in names:
            names.append(username)
    return found


def blue_list_sightings(deployment) -> list[dict]:
    """The deployment's blue-list test alerts, as a walk-through is scored against them:
    subject entry, sighting span and cameras (no crop, no distance)."""
    return list(
        Alert.objects.filter(deployment=deployment, is_test=True)
        .order_by("seq")
        .values("seq", "entry_id", "frame_at", "last_seen_at", "camera_ids", "camera_id")
    )


def camera_status(deployment, *, now=None) -> list[dict]:
    """One row per camera of the deployment: how its stream is doing right now.

    The reading is `recognition.health.camera_health` (state, fps, dropped frames,
    latency, last frame age, reconnects, last error). fps_in counts frames read from the
    source; fps_processed counts frames the detector examined (one in
    PipelineConfig.detect_every: the tracker carries the others).
    """
    return deployment_camera_health(deployment, now=now or timezone.now())


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
        .filter(alerts__adjudications__isnull=True, alerts__is_test=False)
        .annotate(n=Count("alerts", distinct=True))
        .order_by("-n", "pk")
    )
    rows = [d for d in undecided if access.can(user, "deployment", "adjudicate", d)]
    return [
        Waiting(
            key="alert.undecided",
            label="alerts wait for your decision",
            one="alert waits for your decision",
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
