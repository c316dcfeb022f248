"""Alerts: a match is committed first, and only then announced on the live channel."""

import logging
from datetime import datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import F

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
    """Record a match of watchlist row `row_label`; publish it once the transaction commits."""
    # Write first: on SQLite a transaction that reads before it writes can fail to
    # upgrade its lock when another camera raises at the same moment.
    seq = _next_seq(deployment.pk)
    snapshot = DeploymentWatchlist.objects.only("entry_ids", "subject_references").get(
        deployment=deployment
    )
    alert = Alert.objects.create(
        deployment=deployment,
        camera=camera,
        seq=seq,
        entry_id=snapshot.entry_ids[row_label],
        subject_reference=snapshot.subject_references[row_label],
        distance=float(distance),
        threshold=deployment.threshold,
        crop=crop_jpeg,
        track_id=track_id,
        frame_at=frame_at,
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
        },
    )
    alert_id = alert.pk
    transaction.on_commit(lambda: alert_publish(alert_id))
    return alert


def alert_publish(alert_id: int) -> None:
    """Nudge the deployment's live consoles that alert `seq` exists.

    The message carries no biometric data and no subject: consoles fetch the alert from
    the database by seq, so a message lost to a Redis outage loses nothing.
    """
    row = Alert.objects.filter(pk=alert_id).values("deployment_id", "seq").first()
    if row is None:
        return
    # The alert is committed; consoles catch up on reconnect.
    consoles_nudge(
        deployment_id=row["deployment_id"],
        kind="alert.new",
        seq=row["seq"],
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
