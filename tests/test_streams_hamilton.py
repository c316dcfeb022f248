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
    stream_deployment, django_capture_on_commit_callbacks
):
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
    assert [a.seq for a in alerts] == list(range(1, len(alerts) + 1))
    assert all(bytes(a.crop).startswith(JPEG_MAGIC) for a in alerts)
    assert all(a.distance <= a.threshold == deployment.threshold for a in alerts)
    assert AuditEvent.objects.filter(action="alert.raised").count() == len(alerts)
    # One nudge per alert, in order, carrying only the sequence number.
    nudges = drain(layer, channel)
    assert nudges == [
        {"type": "alert.new", "deployment_id": deployment.pk, "seq": a.seq} for a in alerts
    ]
    lease = StreamLease.objects.get(pk=lease_id)
    deployment.refresh_from_db()
    assert lease.frames_in == 275 and lease.position == 275
    assert lease.faces_seen >= 2 and deployment.faces_seen == lease.faces_seen
    assert deployment.last_alert_seq == len(alerts)
