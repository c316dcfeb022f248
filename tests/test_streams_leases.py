"""Stream leases: atomic claims, heartbeats, stale hand-over, supervision, status."""

import os
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from deployments.models import Camera, Deployment
from recognition import tasks
from recognition.models import StreamLease
from recognition.selectors import camera_status
from recognition.services import streams
from tests.fixtures_recognition import watchlist_rows


@pytest.fixture
def deployment(stream_deployment):
    return stream_deployment(rows=watchlist_rows("obama.jpg"), cameras=2)


def lease_for(deployment, **fields):
    lease, _ = StreamLease.objects.get_or_create(
        deployment=deployment, camera=deployment.cameras.order_by("pk").first()
    )
    StreamLease.objects.filter(pk=lease.pk).update(**fields)
    lease.refresh_from_db()
    return lease


def ago(seconds):
    return timezone.now() - timedelta(seconds=seconds)


def test_it_claims_a_free_lease_once(deployment):
    lease = lease_for(deployment)
    assert streams.lease_claim(lease_id=lease.pk, holder="w1/1/a")
    assert not streams.lease_claim(lease_id=lease.pk, holder="w2/2/b")
    lease.refresh_from_db()
    assert (lease.holder, lease.slice_no) == ("w1/1/a", 1)


def test_it_takes_over_a_lease_whose_holder_stopped_beating(deployment):
    lease = lease_for(deployment, holder="dead/1/a", heartbeat_at=ago(60))
    assert streams.lease_claim(lease_id=lease.pk, holder="w2/2/b")
    lease.refresh_from_db()
    assert lease.holder == "w2/2/b"


def test_it_refuses_a_held_lease_with_a_fresh_heartbeat(deployment):
    lease = lease_for(deployment, holder="alive/1/a", heartbeat_at=ago(1))
    assert not streams.lease_claim(lease_id=lease.pk, holder="w2/2/b")


def test_it_refuses_a_stopped_lease(deployment):
    lease = lease_for(deployment, stopped=True)
    assert not streams.lease_claim(lease_id=lease.pk, holder="w1/1/a")


@pytest.mark.django_db(transaction=True)
def test_it_gives_a_lease_to_exactly_one_of_racing_claimers(deployment):
    lease = lease_for(deployment, holder="dead/1/a", heartbeat_at=ago(60))
    barrier = threading.Barrier(4)
    won = []

    def claim(n):
        try:
            barrier.wait()
            if streams.lease_claim(lease_id=lease.pk, holder=f"w{n}/{n}/x"):
                won.append(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lease.refresh_from_db()
    assert len(won) == 1
    assert lease.holder == f"w{won[0]}/{won[0]}/x"


def test_it_stops_heartbeating_once_the_lease_was_taken_over(deployment):
    lease = lease_for(deployment)
    streams.lease_claim(lease_id=lease.pk, holder="slow/1/a")
    StreamLease.objects.filter(pk=lease.pk).update(holder="other/2/b")
    tally = streams._Tally(frames_in=5, frames_processed=1, faces_seen=2)
    assert not streams.lease_heartbeat(lease=lease, holder="slow/1/a", tally=tally, status={})
    lease.refresh_from_db()
    # The counts still survive; the status belongs to the new holder.
    assert (lease.holder, lease.frames_in, lease.faces_seen) == ("other/2/b", 5, 2)


def test_it_adds_faces_seen_to_the_lease_and_the_deployment(deployment):
    lease = lease_for(deployment)
    streams.lease_claim(lease_id=lease.pk, holder="w/1/a")
    for seen in (3, 4):
        tally = streams._Tally(frames_in=10, frames_processed=2, faces_seen=seen)
        assert streams.lease_heartbeat(
            lease=lease, holder="w/1/a", tally=tally, status={"connected": True}
        )
    lease.refresh_from_db()
    deployment.refresh_from_db()
    assert (lease.faces_seen, lease.frames_in, lease.frames_processed) == (7, 20, 4)
    assert deployment.faces_seen == 7
    assert lease.connected


def test_it_frees_the_lease_on_release(deployment):
    lease = lease_for(deployment)
    streams.lease_claim(lease_id=lease.pk, holder="w/1/a")
    streams.lease_release(lease_id=lease.pk, holder="w/1/a", status={"position": 42})
    lease.refresh_from_db()
    assert (lease.holder, lease.position) == ("", 42)


def test_it_names_the_holder_by_worker_and_process():
    holder = streams.holder_id("w1@host")
    assert holder.startswith("w1@host/")
    assert holder.split("/")[1] == str(os.getpid())


# --- Supervisor -------------------------------------------------------------------------


def test_it_creates_one_lease_per_enabled_camera_of_a_live_deployment(deployment):
    disabled = deployment.cameras.order_by("pk").last()
    Camera.objects.filter(pk=disabled.pk).update(enabled=False)
    assert streams.streams_supervise() == []  # just created: the workers' runners claim it
    unserved = streams.streams_supervise()  # still unread a pass later: an alarm
    leases = StreamLease.objects.filter(deployment=deployment)
    assert leases.count() == 1
    assert unserved == [leases.get().pk]


def test_it_leaves_a_working_lease_alone(deployment):
    lease = lease_for(deployment, holder="w/1/a", heartbeat_at=ago(1))
    assert lease.pk not in streams.streams_supervise()


def test_it_leaves_a_just_released_lease_to_its_successor(deployment):
    lease = lease_for(deployment, holder="", heartbeat_at=ago(1))
    assert lease.pk not in streams.streams_supervise()


def test_it_flags_a_camera_whose_holder_went_silent(deployment):
    lease = lease_for(deployment, holder="dead/1/a", heartbeat_at=ago(60), connected=True)
    assert lease.pk in streams.streams_supervise()
    lease.refresh_from_db()
    assert not lease.connected and lease.degraded
    assert lease.last_error == streams.UNSERVED and lease.last_error_at is not None


def test_it_flags_a_camera_no_worker_reads(deployment):
    streams.streams_supervise()
    streams.streams_supervise()
    for lease in StreamLease.objects.filter(deployment=deployment):
        assert lease.last_error == streams.UNSERVED and lease.degraded


def test_it_keeps_a_cameras_own_error_when_it_flags_it(deployment):
    lease = lease_for(deployment, holder="", heartbeat_at=ago(60), last_error="end of file")
    streams.streams_supervise()
    lease.refresh_from_db()
    assert lease.last_error == "end of file"


def test_it_stops_the_leases_of_a_deployment_that_ended(deployment):
    lease = lease_for(deployment, holder="w/1/a", heartbeat_at=ago(1), connected=True)
    Deployment.objects.filter(pk=deployment.pk).update(state=Deployment.State.COMPLETED)
    assert streams.streams_supervise() == []
    lease.refresh_from_db()
    assert lease.stopped and not lease.connected


def test_it_stops_the_lease_of_a_camera_that_was_disabled(deployment):
    lease = lease_for(deployment)
    Camera.objects.filter(pk=lease.camera_id).update(enabled=False)
    assert lease.pk not in streams.streams_supervise()
    lease.refresh_from_db()
    assert lease.stopped


def test_it_never_enqueues_a_camera_task(
    deployment, django_capture_on_commit_callbacks, monkeypatch
):
    from celery.app.task import Task

    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda self, *a, **k: sent.append(self.name))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            tasks.stream_supervisor()
    StreamLease.objects.update(heartbeat_at=ago(60))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.stream_supervisor()
    # Workers claim leases themselves: no task can be queued twice, or wait on a pool.
    assert sent == []


def test_it_returns_quietly_when_the_lease_is_gone(db):
    outcome = streams.stream_slice_run(lease_id=987654, holder="w/1/a")
    assert outcome.reason == "not claimed"


def test_it_runs_the_alert_retention_service(db):
    assert isinstance(tasks.alert_retention(), dict)


# --- Status for the deployment page -----------------------------------------------------


def test_it_reports_each_cameras_status(deployment):
    lease = lease_for(
        deployment,
        holder="w/1/a",
        heartbeat_at=ago(1),
        connected=True,
        fps_in=25.0,
        fps_processed=5.0,
        faces_seen=12,
        last_error="",
    )
    rows = camera_status(deployment)
    assert [r["camera"] for r in rows] == sorted(c.name for c in deployment.cameras.all())
    row = next(r for r in rows if r["camera_id"] == lease.camera_id)
    assert row["connected"] and not row["stale"]
    assert (row["fps_in"], row["fps_processed"], row["faces_seen"]) == (25.0, 5.0, 12)
    other = next(r for r in rows if r["camera_id"] != lease.camera_id)
    assert not other["connected"] and other["holder"] == ""


def test_it_shows_a_silent_holder_as_stale_and_not_connected(deployment):
    lease_for(deployment, holder="dead/1/a", heartbeat_at=ago(60), connected=True, fps_in=25.0)
    row = camera_status(deployment)[0]
    assert row["stale"] and not row["connected"]
    assert row["fps_in"] == 0.0


def test_it_frees_a_stopped_lease_whose_holder_died(deployment):
    lease = lease_for(deployment, holder="dead/1/a", heartbeat_at=ago(60))
    Deployment.objects.filter(pk=deployment.pk).update(state=Deployment.State.COMPLETED)
    streams.streams_supervise()
    lease.refresh_from_db()
    assert lease.stopped and lease.holder == ""
