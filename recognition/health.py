"""Per-camera health: what a stream lease's figures mean for the people watching.

The stream worker writes the figures on its lease (`StreamLease`, at each heartbeat);
this module is the one reading of them, used by the cameras page, the deployment's
camera status, `/health/`, the console banner and the API, so they never disagree.
Every function takes `now` so a test can say "eleven seconds later" without waiting.

States, most serious first (a camera is in exactly one):

- ``unserved``: the deployment is live but no stream worker holds the camera (no lease
  yet, its holder let go and nobody took it, or its heartbeat is stale). Nobody looks
  at the camera, so it is an alarm, never a quiet "not connected".
- ``blind``: served, but no frame for ``LFR_CAMERA_BLIND_SECONDS`` (default 10).
- ``reconnecting``: served, lost its source recently and is trying again.
- ``not connected``: served, connecting for the first time (not blind yet).
- ``degraded``: frames flow but less than ``LFR_CAMERA_DEGRADED_SHARE`` (default 0.8)
  of real time is analysed (the rest dropped, counted); the console says the share.
- ``live``: frames flow and are analysed.
- ``stopped``: the deployment is not live, or the camera was taken out of it.
"""

from datetime import timedelta

from django.conf import settings

from deployments.models import Deployment
from recognition.models import StreamLease

UNSERVED, BLIND, RECONNECTING, NOT_CONNECTED, DEGRADED, LIVE, STOPPED = (
    "unserved",
    "blind",
    "reconnecting",
    "not connected",
    "degraded",
    "live",
    "stopped",
)
# How loud each state is: "fail" turns /health/ red and the console banner on, "warn"
# amber; "ok" is quiet.
LEVEL = {
    UNSERVED: "fail",
    BLIND: "fail",
    RECONNECTING: "warn",
    NOT_CONNECTED: "warn",
    DEGRADED: "warn",
    LIVE: "ok",
    STOPPED: "ok",
}
# A slice hands the camera to its successor with the holder blank and a fresh heartbeat;
# blank for longer than this is not a hand-over any more but a camera nobody took.
HANDOVER_GRACE_SECONDS = 5


def _age(now, then) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


def below_real_time(share: float | None) -> bool:
    """Whether a camera analysing `share` of real time is degraded (None: no frame yet)."""
    return share is not None and share < settings.LFR_CAMERA_DEGRADED_SHARE


def _degraded(lease) -> bool:
    # The share, judged now against the setting; a lease from before shares were written
    # keeps the worker's verdict.
    if lease.realtime_share is None:
        return lease.degraded
    return below_real_time(lease.realtime_share)


def camera_health(lease, *, camera, deployment, now) -> dict:
    """The health view of one camera of one deployment (`lease` may be None)."""
    blind_after = settings.LFR_CAMERA_BLIND_SECONDS
    stale_after = settings.LFR_STREAM_LEASE_STALE_SECONDS
    live = deployment.state == Deployment.State.LIVE
    beat_age = _age(now, lease.heartbeat_at) if lease else None
    frame_age = _age(now, lease.last_frame_at) if lease else None
    # Without a frame yet, a camera has been blind since it was due to deliver one.
    blind_for = frame_age if frame_age is not None else _age(now, deployment.started_at)
    holder = lease.holder if lease else ""

    if not live or (lease and lease.stopped) or not camera.enabled:
        state, why = STOPPED, "" if live else f"deployment is {deployment.get_state_display()}"
    elif lease is None or beat_age is None:
        # The supervisor creates the lease and starts a worker within a tick or two.
        started = _age(now, deployment.started_at) or 0.0
        if started <= stale_after:
            state, why = NOT_CONNECTED, "waiting for a stream worker"
        else:
            state, why = UNSERVED, "no stream worker has taken this camera"
    elif beat_age > stale_after:
        state, why = UNSERVED, f"stream worker silent for {beat_age:.0f} s"
    elif not holder and beat_age > HANDOVER_GRACE_SECONDS:
        state, why = UNSERVED, f"no stream worker holds it ({beat_age:.0f} s)"
    elif blind_for is not None and blind_for >= blind_after:
        state, why = BLIND, f"no frame for {blind_for:.0f} s"
    elif not lease.connected:
        had_source = lease.frames_in > 0 or lease.reconnects > 0 or bool(lease.last_error)
        state = RECONNECTING if had_source else NOT_CONNECTED
        why = lease.last_error or ("source lost" if had_source else "connecting")
    elif _degraded(lease):
        state, why = DEGRADED, "cannot analyse at real time: frames are dropped"
    else:
        state, why = LIVE, ""

    return {
        "camera_id": camera.pk,
        "camera": camera.name,
        "deployment_id": deployment.pk,
        "deployment": deployment.reference,
        "state": state,
        "level": LEVEL[state],
        "why": why,
        # Seconds without a frame, for the banner ("Camera 2 blind for 40 s").
        "blind_for_s": round(blind_for) if state in (BLIND, UNSERVED) and blind_for else None,
        "fps_in": lease.fps_in if state not in (STOPPED, UNSERVED) and lease else 0.0,
        "fps_processed": (
            lease.fps_processed if state not in (STOPPED, UNSERVED) and lease else 0.0
        ),
        "source_fps": lease.source_fps if lease else 0.0,
        "frames_in": lease.frames_in if lease else 0,
        "frames_processed": lease.frames_processed if lease else 0,
        "frames_dropped": lease.frames_dropped if lease else 0,
        "faces_seen": lease.faces_seen if lease else 0,
        "latency_p95_ms": lease.latency_p95_ms if lease else None,
        "last_frame_at": lease.last_frame_at if lease else None,
        "last_frame_age_s": None if frame_age is None else round(frame_age, 1),
        "reconnects": lease.reconnects if lease else 0,
        "last_error": lease.last_error if lease else "",
        "last_error_at": lease.last_error_at if lease else None,
        "holder": holder,
        "heartbeat_at": lease.heartbeat_at if lease else None,
        "heartbeat_age_s": None if beat_age is None else round(beat_age, 1),
        "degraded": bool(lease) and _degraded(lease),
        "realtime_share": lease.realtime_share if lease else None,
        # Silent too long: the worker probably died; the supervisor will reassign.
        "stale": bool(
            lease and not lease.stopped and beat_age is not None and beat_age > stale_after
        ),
        "connected": state in (LIVE, DEGRADED, BLIND) and bool(lease and lease.connected),
        "enabled": camera.enabled,
        "stopped": state == STOPPED,
        "slices": lease.slice_no if lease else 0,
    }


def deployment_camera_health(deployment, *, now) -> list[dict]:
    """One health row per camera of the deployment, by camera name."""
    leases = {lease.camera_id: lease for lease in StreamLease.objects.filter(deployment=deployment)}
    return [
        camera_health(leases.get(camera.pk), camera=camera, deployment=deployment, now=now)
        for camera in deployment.cameras.order_by("name")
    ]


def live_camera_health(*, now, deployments=None) -> list[dict]:
    """Health rows of every camera of every live deployment (or of `deployments`, a
    queryset already cut to what the reader may see)."""
    qs = deployments if deployments is not None else Deployment.objects.all()
    qs = qs.filter(state=Deployment.State.LIVE).order_by("reference").prefetch_related("cameras")
    leases = {
        (lease.deployment_id, lease.camera_id): lease
        for lease in StreamLease.objects.filter(deployment__in=qs)
    }
    return [
        camera_health(leases.get((d.pk, c.pk)), camera=c, deployment=d, now=now)
        for d in qs
        for c in sorted(d.cameras.all(), key=lambda c: c.name)
    ]


def camera_banner(row: dict) -> str:
    """What the officer's console says about a camera that needs attention ("" if none)."""
    if row["state"] == DEGRADED:
        share = row["realtime_share"]
        if share is None:
            return f"{row['camera']} cannot be analysed at real time"
        return f"{row['camera']} analysing {round(share * 100)} % of real time"
    if row["level"] != "fail":
        return ""
    seconds = row["blind_for_s"]
    gap = f" for {seconds} s" if seconds else ""
    if row["state"] == UNSERVED:
        return f"{row['camera']} blind{gap}: no stream worker is reading it"
    return f"{row['camera']} blind{gap}"


def health_summary(rows: list[dict]) -> str:
    """The worst level among rows: "fail", "warn" or "ok"."""
    levels = {row["level"] for row in rows}
    return "fail" if "fail" in levels else "warn" if "warn" in levels else "ok"


def lease_errors_since(*, now, seconds: int) -> list[dict]:
    """Stream errors of live cameras in the last `seconds`: failed connects and slices."""
    cutoff = now - timedelta(seconds=seconds)
    rows = (
        StreamLease.objects.filter(
            deployment__state=Deployment.State.LIVE, last_error_at__gte=cutoff
        )
        .exclude(last_error="")
        .select_related("camera", "deployment")
        .order_by("-last_error_at")
    )
    return [
        {
            "deployment": lease.deployment.reference,
            "camera": lease.camera.name,
            "error": lease.last_error,
            "at": lease.last_error_at,
            "age_s": round(_age(now, lease.last_error_at)),
        }
        for lease in rows
    ]
