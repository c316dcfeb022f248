"""Alerts: numbered per deployment, audited without the crop, published only after commit."""

import asyncio
import logging
import threading
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.utils import timezone

from core.models import AuditEvent
from recognition.models import Alert
from recognition.services import alerts
from recognition.services.alerts import alert_group, alert_raise
from tests.fixtures_recognition import watchlist_rows

CROP = b"\xff\xd8\xff\xe0" + b"\0" * 64  # stands in for a JPEG; content is not inspected


@pytest.fixture
def deployment(stream_deployment):
    return stream_deployment(rows=watchlist_rows("obama.jpg", "biden.jpg"), threshold=0.45)


def raise_one(deployment, row_label=0, **extra):
    fields = dict(
        deployment=deployment,
        camera=deployment.cameras.first(),
        row_label=row_label,
        distance=0.31,
        crop_jpeg=CROP,
        track_id="1-7",
        frame_at=timezone.now(),
    )
    fields.update(extra)
    return alert_raise(**fields)


@pytest.fixture
def listener():
    """A channel subscribed to a deployment's alert group; `.get()` returns one message."""
    layer = get_channel_layer()

    class Listener:
        def join(self, deployment):
            self.channel = async_to_sync(layer.new_channel)()
            async_to_sync(layer.group_add)(alert_group(deployment.pk), self.channel)

        def get(self, wait=5.0):
            async def receive():
                return await asyncio.wait_for(layer.receive(self.channel), wait)

            return async_to_sync(receive)()

    return Listener()


def test_it_numbers_alerts_per_deployment(deployment, stream_deployment):
    other = stream_deployment(rows=watchlist_rows("obama.jpg"))
    seqs = [raise_one(deployment, row_label=r).seq for r in (0, 1)] + [raise_one(other).seq]
    deployment.refresh_from_db()
    assert seqs == [1, 2, 1]
    assert deployment.last_alert_seq == 2


def test_it_records_the_entry_and_subject_of_the_matched_row(deployment):
    alert = raise_one(deployment, row_label=1)
    alert.refresh_from_db()
    assert (alert.entry_id, alert.subject_reference) == (1002, "biden")
    assert (alert.threshold, alert.track_id, bytes(alert.crop)) == (0.45, "1-7", CROP)


def test_it_audits_the_alert_without_the_crop(deployment):
    alert = raise_one(deployment)
    event = AuditEvent.objects.get(action="alert.raised", object_id=str(alert.pk))
    assert event.details == {
        "deployment": deployment.pk,
        "camera": alert.camera_id,
        "seq": 1,
        "distance": 0.31,
        "entry_id": 1001,
    }


def test_it_publishes_a_nudge_only_after_commit(
    deployment, listener, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    real_publish = alerts.alert_publish
    monkeypatch.setattr(
        alerts, "alert_publish", lambda pk, **kw: real_publish(published.append(pk) or pk, **kw)
    )
    listener.join(deployment)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alert = raise_one(deployment)
        assert published == []
    # The audit chain checkpoints its head after commit too; one callback is the alert's.
    [nudge] = [c for c in callbacks if "alert_raise" in c.__qualname__]
    nudge()
    assert published == [alert.pk]
    # A nudge: which deployment and which seq; no subject, no distance, no face.
    assert listener.get() == {"type": "alert.new", "deployment_id": deployment.pk, "seq": 1}


def test_it_leaves_nothing_when_the_transaction_rolls_back(
    deployment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            raise_one(deployment)
            raise RuntimeError("the frame failed after the match")
    assert callbacks == []
    assert not Alert.objects.exists()
    assert not AuditEvent.objects.filter(action="alert.raised").exists()


def test_it_keeps_the_alert_when_publishing_fails(deployment, monkeypatch, caplog):
    class DownLayer:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(alerts, "get_channel_layer", DownLayer)
    alert = raise_one(deployment)
    with caplog.at_level(logging.WARNING, logger="recognition.services.alerts"):
        alerts.alert_publish(alert.pk)
    assert Alert.objects.filter(pk=alert.pk).exists()
    assert f"alert {alert.pk} committed but not published" in caplog.text
    assert "biden" not in caplog.text and "obama" not in caplog.text


def test_it_ignores_a_publish_for_an_alert_that_is_gone(db, monkeypatch):
    nudged = []
    monkeypatch.setattr(alerts, "consoles_nudge", lambda **kw: nudged.append(kw))
    alerts.alert_publish(987654)
    assert nudged == []


@pytest.mark.django_db(transaction=True)
def test_it_gives_concurrent_cameras_distinct_numbers(stream_deployment):
    deployment = stream_deployment(rows=watchlist_rows("obama.jpg"), cameras=2)
    cameras = list(deployment.cameras.all())
    barrier = threading.Barrier(2)
    errors = []

    start = timezone.now() - timedelta(hours=2)

    def raise_many(camera):
        try:
            barrier.wait()
            for n in range(5):
                # Minutes apart, so each is a sighting of its own (tests/test_sightings.py
                # has the same subject raised at the same moment).
                at = start + timedelta(minutes=10 * n + 5 * cameras.index(camera))
                raise_one(deployment, camera=camera, frame_at=at)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=raise_many, args=(c,)) for c in cameras]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(Alert.objects.values_list("seq", flat=True)) == list(range(1, 11))
