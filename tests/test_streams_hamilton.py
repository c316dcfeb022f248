"""End to end through the stream task: the hamilton clip raises alerts for the watchlisted."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.models import AuditEvent
from recognition.models import Alert, StreamLease
from recognition.services import streams
from recognition.services.alerts import alert_group
from tests.fixtures_recognition import watchlist_rows

JPEG_MAGIC = b"\xff\xd8\xff"
HAMILTON_THRESHOLD = 0.6


def drain(layer, channel):
    """Every message waiting on a channel (the in-memory and Redis layers alike)."""

    async def receive_all():
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), 2.0))
            except TimeoutError:
                return messages

    return async_to_sync(receive_all)()


@pytest.mark.slow
def test_it_alerts_on_both_watchlisted_faces_and_nudges_the_console(
    stream_deployment, django_capture_on_commit_callbacks, settings
):
    # HOG on the first look: the only setting that alerts on Lacamoire's ~28 px face
    # (YuNet tracks it but encodes from 48 px; this test is about the stream machinery).
    settings.LFR_DETECTOR, settings.LFR_TRACK_EVIDENCE_LOOKS = "hog", 1
    deployment = stream_deployment(
        rows=watchlist_rows("lin-manuel-miranda.png", "alex-lacamoire.png"),
        # The library's own tolerance, as in the engine's Hamilton test: Alex Lacamoire is
        # a ~28 px face at the frame's edge and does not come closer than ~0.55-0.6.
        threshold=HAMILTON_THRESHOLD,
    )
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(alert_group(deployment.pk), channel)

    streams.streams_supervise()
    lease_id = StreamLease.objects.get(deployment=deployment).pk
    with django_capture_on_commit_callbacks(execute=True):
        outcome = streams.stream_slice_run(lease_id=lease_id, holder="w/1/a")
        assert outcome.reason == "end of file"

    alerts = list(Alert.objects.filter(deployment=deployment).order_by("seq"))
    print("alerts:", [(a.seq, a.subject_reference, round(a.distance, 3)) for a in alerts])
    assert {a.subject_reference for a in alerts} == {"lin-manuel-miranda", "alex-lacamoire"}
    # One alert per subject: a second track of the same face is a sighting of it.
    assert len(alerts) == 2
    assert all(bytes(a.crop).startswith(JPEG_MAGIC) for a in alerts)
    assert all(a.distance <= a.threshold == deployment.threshold for a in alerts)
    assert AuditEvent.objects.filter(action="alert.raised").count() == len(alerts)
    extra = sum(a.sightings - 1 for a in alerts)
    assert AuditEvent.objects.filter(action="alert.sighted").count() == extra
    # One nudge per alert and per sighting, in order, carrying only the sequence number.
    nudges = drain(layer, channel)
    assert [n["seq"] for n in nudges if n["type"] == "alert.new"] == [a.seq for a in alerts]
    assert [n["type"] for n in nudges].count("alert.sighted") == extra
    assert [n["seq"] for n in nudges] == list(range(1, len(alerts) + extra + 1))
    assert all(set(n) == {"type", "deployment_id", "seq"} for n in nudges)
    lease = StreamLease.objects.get(pk=lease_id)
    deployment.refresh_from_db()
    assert lease.frames_in == 275 and lease.position == 275
    assert lease.faces_seen >= 2 and deployment.faces_seen == lease.faces_seen
    assert deployment.last_alert_seq == len(alerts) + extra
