"""Recognition's reads."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from recognition.models import StreamLease


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
