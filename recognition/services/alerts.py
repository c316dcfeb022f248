"""Alerts: a match is committed first, and only then announced on the live channel."""

import logging
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from core import access
from core.services import audit_record
from deployments.models import Camera, Deployment, DeploymentWatchlist
from recognition.models import Alert

logger = logging.getLogger(__name__)


def alert_group(deployment_id: int) -> str:
    """The channel-layer group the console's alert sockets of one deployment join."""
    return f"deployment-{deployment_id}-alerts"


def _next_seq(deployment_id: int) -> int:
    # The UPDATE takes the row lock, so concurrent raisers on other cameras of the same
    # deployment queue behind it and each re-reads its own number.
    Deployment.objects.filter(pk=deployment_id).update(last_alert_seq=F("last_alert_seq") + 1)
    return Deployment.objects.filter(pk=deployment_id).values_list("last_alert_seq", flat=True)[0]


@transaction.atomic
def alert_raise(
    *,
    deployment: Deployment,
    camera: Camera,
    row_label: int,
    distance: float,
    crop_jpeg: bytes,
    track_id: str,
    frame_at: datetime,
) -> Alert:
    """Record a match of watchlist row `row_label`; publish it once the transaction commits.

    One alert per sighting: a match of an entry that already has an alert at this
    deployment last seen at most LFR_SIGHTING_WINDOW_SECONDS before `frame_at` (any
    camera, track, slice or worker) updates that alert instead of raising another.
    """
    # Write first: on SQLite a transaction that reads before it writes can fail to
    # upgrade its lock when another camera raises at the same moment. The counter's
    # UPDATE also takes the deployment row's lock until commit, so two workers matching
    # the same subject at once queue here, and the second finds the first's alert.
    seq = _next_seq(deployment.pk)
    snapshot = DeploymentWatchlist.objects.only(
        "entry_ids", "subject_references", "test_entry_ids"
    ).get(deployment=deployment)
    entry_id = snapshot.entry_ids[row_label]
    window = timedelta(seconds=settings.LFR_SIGHTING_WINDOW_SECONDS)
    open_alert = (
        Alert.objects.select_for_update()
        .filter(
            deployment=deployment,
            entry_id=entry_id,
            # Within the window of the sighting's span, either side: two cameras' frames
            # may be written a little out of order.
            last_seen_at__gte=frame_at - window,
            frame_at__lte=frame_at + window,
        )
        .order_by("-last_seen_at")
        .first()
    )
    if open_alert is not None and open_alert.last_seen_at == frame_at:
        # The latest sighting written again (a retry after a lost COMMIT acknowledgement):
        # frame times are per frame and camera, so it is not another face.
        return open_alert
    if open_alert is not None:
        return _sighting_add(
            open_alert,
            seq=seq,
            camera=camera,
            distance=float(distance),
            crop_jpeg=crop_jpeg,
            frame_at=frame_at,
        )
    alert = Alert.objects.create(
        deployment=deployment,
        camera=camera,
        seq=seq,
        changed_seq=seq,
        entry_id=entry_id,
        subject_reference=snapshot.subject_references[row_label],
        distance=float(distance),
        threshold=deployment.threshold,
        crop=crop_jpeg,
        track_id=track_id,
        frame_at=frame_at,
        last_seen_at=frame_at,
        camera_ids=[camera.pk],
        is_test=entry_id in snapshot.test_entry_ids,
    )
    audit_record(
        action="alert.raised",
        obj=alert,
        details={
            "deployment": deployment.pk,
            "camera": camera.pk,
            "seq": alert.seq,
            "distance": round(alert.distance, 4),
            "entry_id": alert.entry_id,
            **({"test": True} if alert.is_test else {}),
        },
    )
    alert_id = alert.pk
    transaction.on_commit(lambda: alert_publish(alert_id, seq=seq))
    return alert


def _sighting_add(
    alert: Alert, *, seq: int, camera: Camera, distance: float, crop_jpeg: bytes, frame_at
) -> Alert:
    """Another match of the same subject within the window: count it on `alert`.

    A decided alert still counts its sightings but is not re-opened, and keeps the crop
    and distance its decision was made on: the officer decided on what they were shown.
    A subject unseen for longer than the window raises a new alert (alert_raise).
    """
    decided = alert.adjudications.exists()
    better = distance < alert.distance and not decided
    alert.sightings += 1
    alert.changed_seq = seq
    alert.last_seen_at = max(alert.last_seen_at, frame_at)
    fields = ["sightings", "changed_seq", "last_seen_at"]
    if camera.pk not in alert.camera_ids:
        alert.camera_ids = [*alert.camera_ids, camera.pk]
        fields.append("camera_ids")
    if better:
        alert.distance, alert.crop = distance, crop_jpeg
        fields += ["distance", "crop"]
    alert.save(update_fields=fields)
    audit_record(
        action="alert.sighted",
        obj=alert,
        details={
            "deployment": alert.deployment_id,
            "camera": camera.pk,
            "seq": alert.seq,
            "changed_seq": seq,
            "sightings": alert.sightings,
            "distance": round(distance, 4),
            "closer": better,
        },
    )
    alert_id = alert.pk
    transaction.on_commit(lambda: alert_publish(alert_id, kind="alert.sighted", seq=seq))
    return alert


def alert_publish(alert_id: int, kind: str = "alert.new", seq: int | None = None) -> None:
    """Nudge the deployment's live consoles that alert `seq` exists (or was seen again).

    The message carries no biometric data and no subject: consoles fetch the alert from
    the database by seq, so a message lost to a Redis outage loses nothing.
    """
    row = Alert.objects.filter(pk=alert_id).values("deployment_id", "changed_seq").first()
    if row is None:
        return
    # The alert is committed; consoles catch up on reconnect.
    consoles_nudge(
        deployment_id=row["deployment_id"],
        kind=kind,
        seq=row["changed_seq"] if seq is None else seq,
        unsent=f"alert {alert_id} committed but not published live",
    )


def consoles_nudge(*, deployment_id: int, kind: str, seq: int, unsent: str) -> None:
    """Tell a deployment's consoles that alert `seq` changed; never raises.

    Called after commit, so a channel layer that is down costs only the live push (the
    consoles re-read the database): it is logged as `unsent`, with the error's type.
    """
    try:
        async_to_sync(get_channel_layer().group_send)(
            alert_group(deployment_id),
            {"type": kind, "deployment_id": deployment_id, "seq": seq},
        )
    except Exception as exc:
        logger.warning("%s: %s", unsent, type(exc).__name__)


def consoles_recheck(*, user_id: int, **kwargs) -> None:
    """A user's access changed (core.users.access_changed): tick the consoles that may have
    their sockets open now, so one they may no longer hold closes at once (a tick asks
    core.access afresh); never raises."""
    ids = (
        Deployment.objects.filter(Q(officers=user_id) | Q(state__in=access.CONSOLE_STATES))
        .exclude(state__in=(Deployment.State.COMPLETED, Deployment.State.CANCELLED))
        .values_list("pk", flat=True)
        .distinct()
    )
    for deployment_id in ids:
        consoles_nudge(
            deployment_id=deployment_id,
            kind="console.tick",
            seq=0,
            unsent=f"user {user_id}'s access changed; consoles not rechecked live",
        )
