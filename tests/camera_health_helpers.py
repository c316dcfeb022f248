"""Stream leases as the stream worker leaves them, written directly (no runtime needed)."""

from datetime import timedelta

from recognition.models import StreamLease

# A camera that is read and analysed: the figures a healthy worker reports.
FLOWING = dict(
    holder="streams@test/1/a",
    connected=True,
    fps_in=25.0,
    fps_processed=5.0,
    source_fps=25.0,
    frames_in=2500,
    frames_processed=500,
)


def serve(deployment, *, now, frame_ago=0.5, beat_ago=1.0, camera=None, **figures):
    """The lease of `camera` (default: the deployment's first), beating `beat_ago` s
    before `now`, its last frame `frame_ago` s before (None: never a frame)."""
    camera = camera or deployment.cameras.order_by("pk").first()
    values = {
        **FLOWING,
        "heartbeat_at": None if beat_ago is None else now - timedelta(seconds=beat_ago),
        "last_frame_at": None if frame_ago is None else now - timedelta(seconds=frame_ago),
        **figures,
    }
    lease, _ = StreamLease.objects.update_or_create(
        deployment=deployment, camera=camera, defaults=values
    )
    return lease
