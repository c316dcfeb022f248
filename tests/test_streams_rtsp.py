"""A real RTSP camera (GStreamer's RTSP server on the sample clip, looped): one session.

The camera stays open, with one pipeline and its tracks, for as long as the worker holds
it: no reconnect and no new session at what used to be a 60 s slice boundary.
"""

import time

import pytest
from django.db import close_old_connections

from recognition.bench_cameras import RtspCameras
from recognition.engine import sources
from recognition.models import Alert, StreamLease
from recognition.services import stream_runner, streams
from tests.fixtures_recognition import watchlist_rows
from tests.helpers import faces

CLIP_FRAMES = 275  # short_hamilton_clip.mp4: 9.2 s at 29.97 fps


@pytest.fixture
def rtsp():
    with RtspCameras(faces("examples", "short_hamilton_clip.mp4")) as cameras:
        yield cameras


def until(what, condition, seconds):
    deadline = time.monotonic() + seconds
    while True:
        close_old_connections()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_reads_an_rtsp_camera_continuously_in_one_session(
    rtsp, stream_deployment, monkeypatch
):
    opened = []
    real_open = sources.open_source
    monkeypatch.setattr(
        sources, "open_source", lambda *a, **k: opened.append(1) or real_open(*a, **k)
    )
    deployment = stream_deployment(
        rows=watchlist_rows("lin-manuel-miranda.png"), stream_url=rtsp.url(), threshold=0.6
    )
    streams.streams_supervise()
    lease = StreamLease.objects.get(deployment=deployment)
    runner = stream_runner.StreamRunner(worker="w1", capacity=1, poll=0.1).start()
    try:
        # Three loops of the clip, each with Lin-Manuel Miranda in it.
        until(
            "three loops read",
            lambda: StreamLease.objects.get(pk=lease.pk).frames_in > 3 * CLIP_FRAMES,
            300,
        )
        until("an alert", lambda: Alert.objects.filter(deployment=deployment).exists(), 120)
        lease.refresh_from_db()
    finally:
        runner.stop()
    assert len(opened) == 1 and lease.reconnects == 0
    assert lease.slice_no == 1  # one claim, one session
    assert {a.track_id.split("-")[0] for a in Alert.objects.filter(deployment=deployment)} == {
        "1"
    }
    # The health figures a page shows were written at the heartbeats.
    assert lease.connected and lease.last_error == ""
    assert lease.source_fps == pytest.approx(29.97, abs=0.1)
    assert lease.fps_in > 0 and lease.latency_p95_ms is not None
    assert lease.last_frame_at is not None
