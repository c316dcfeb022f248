"""Stream workers' runners: every camera gets a worker, none twice; stopping hands over."""

import contextlib
import threading
import time

import numpy as np
import pytest
from django.utils import timezone

from recognition.engine import sources
from recognition.models import StreamLease
from recognition.services import stream_runner, streams
from tests.fixtures_recognition import watchlist_rows
from tests.helpers import until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cameras(stream_deployment):
    def make(n):
        deployment = stream_deployment(
            rows=watchlist_rows("obama.jpg"), cameras=n, stream_url="rtsp://camera.invalid/s"
        )
        streams.streams_supervise()
        return list(StreamLease.objects.filter(deployment=deployment).order_by("pk"))

    return make


class Served(list):
    """(lease, worker) per session started; `twice` lists cameras served by two at once."""

    def __init__(self):
        super().__init__()
        self.now, self.twice = set(), []


@pytest.fixture
def sessions(monkeypatch):
    """Sessions that only record who serves which camera, until their runner stops."""
    served = Served()
    lock = threading.Lock()

    def session(*, lease_id, holder, stopping, claimed):
        with lock:
            if lease_id in served.now:
                served.twice.append(lease_id)
            served.now.add(lease_id)
            served.append((lease_id, holder.split("/")[0]))
        beats = 0
        while not stopping():
            time.sleep(0.02)
            beats += 1
            if beats % 25 == 0:  # heartbeats as a session does: never stale while held
                StreamLease.objects.filter(pk=lease_id, holder=holder).update(
                    heartbeat_at=timezone.now()
                )
        with lock:
            served.now.discard(lease_id)
        streams.lease_release(lease_id=lease_id, holder=holder, status={}, handover=True)
        return streams.SliceOutcome(claimed=True, successor=True, reason="test session over")

    monkeypatch.setattr(stream_runner, "stream_slice_run", session)
    return served


def runners(*names, capacity=4):
    return [
        stream_runner.StreamRunner(worker=name, capacity=capacity, poll=0.05).start()
        for name in names
    ]


@pytest.fixture
def late_runner(monkeypatch):
    """Holds one runner's claims until the others are full: a worker that starts late, as on
    a loaded machine (issue 21: the test relied on both runners claiming in step)."""

    def make(late):
        others_full = threading.Event()
        claim = stream_runner.StreamRunner._claim_one

        def claim_one(self):
            if self.worker == late:
                assert others_full.wait(30), "the other runner never filled up"
            claimed = claim(self)
            if self.worker != late and len(self._sessions) >= self.capacity:
                others_full.set()
            return claimed

        monkeypatch.setattr(stream_runner.StreamRunner, "_claim_one", claim_one)

    return make


@pytest.mark.parametrize("late", [None, "w2"])
def test_it_spreads_n_cameras_over_m_workers_and_serves_each_once(
    cameras, sessions, late_runner, late
):
    # Capacity spreads the cameras, whatever the timing; full runners take nothing that
    # another releases while it stops, so every camera was served exactly once.
    if late:
        late_runner(late)
    leases = cameras(4)
    workers = runners("w1", "w2", capacity=2)
    try:
        until("every camera served", lambda: len({pk for pk, _ in sessions}) == 4)
    finally:
        for worker in workers:
            worker.stop()
    assert sorted(pk for pk, _ in sessions) == [lease.pk for lease in leases]  # none twice
    assert sorted(w for _, w in sessions) == ["w1", "w1", "w2", "w2"]  # spread


@contextlib.contextmanager
def returning_worker(*, cameras):
    """w1 serving every camera, then w2 starting (as after a restart); both stopped after."""
    [first] = runners("w1")
    workers = [first]
    try:
        until("one worker serving every camera", lambda: len(first.serving) == cameras)
        workers += runners("w2")
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def test_it_gives_a_returning_worker_its_share_of_the_cameras(cameras, sessions):
    # Issue 27: the worker that stayed up kept all four cameras; the returning one idled.
    leases = cameras(4)
    with returning_worker(cameras=4) as (first, second):
        until(
            "the cameras split over both workers",
            lambda: len(first.serving) == 2 and len(second.serving) == 2,
            seconds=30,
        )
    assert sessions.twice == []
    assert sorted({pk for pk, _ in sessions}) == [lease.pk for lease in leases]
    assert sorted(w for _, w in sessions) == ["w1"] * 4 + ["w2"] * 2  # two handed over


def test_it_leaves_cameras_beyond_its_capacity_to_the_alarm(cameras, sessions):
    leases = cameras(3)
    [worker] = runners("w1", capacity=2)
    try:
        until("two cameras served", lambda: len(sessions) == 2)
        streams.streams_supervise()
        unserved = StreamLease.objects.exclude(pk__in=[pk for pk, _ in sessions])
        assert [lease.last_error for lease in unserved] == [streams.UNSERVED]
        assert len(sessions) == 2 and {pk for pk, _ in sessions} < {x.pk for x in leases}
    finally:
        worker.stop()


class EndlessCamera:
    live, fps, position, name = True, 25.0, 0, "endless"

    def __init__(self):
        self.no = 0
        self.gate = threading.Event()

    def read(self, decode=True):
        self.gate.wait(0.04)  # about a camera's pace; it only has to keep frames coming
        self.no += 1
        return self.no - 1, np.zeros((120, 160, 3), np.uint8) if decode else None

    def close(self):
        pass


def test_it_hands_its_cameras_over_at_once_when_it_stops(cameras, monkeypatch):
    monkeypatch.setattr(sources, "open_source", lambda url, **kwargs: EndlessCamera())
    [lease] = cameras(1)
    [first] = runners("w1")
    until("frames read", lambda: StreamLease.objects.get(pk=lease.pk).frames_in > 0)
    first.stop()
    lease.refresh_from_db()
    assert lease.holder == "" and lease.heartbeat_at is None and not lease.connected
    [second] = runners("w2")
    try:
        until(
            "the other worker to take the camera",
            lambda: StreamLease.objects.get(pk=lease.pk).holder.startswith("w2/"),
        )
    finally:
        second.stop()


def test_it_hands_a_live_camera_over_to_a_returning_worker(cameras, monkeypatch):
    # The real session: the hand-over frees the lease at once (no stale wait) and the
    # camera is read on by the returning worker.
    monkeypatch.setattr(sources, "open_source", lambda url, **kwargs: EndlessCamera())
    leases = cameras(2)
    with returning_worker(cameras=2) as (first, second):
        moved = until(
            "a camera read by the returning worker",
            lambda: StreamLease.objects.filter(
                pk__in=[x.pk for x in leases], holder__startswith="w2/", frames_in__gt=0
            ).first(),
        )
        assert moved.slice_no == 2  # claimed afresh, not shared
        until("the first worker keeping the other", lambda: len(first.serving) == 1)


def test_its_share_leaves_out_cameras_waiting_to_be_retried(cameras):
    # A session that ended on an error leaves its lease unclaimable for the stale period:
    # counting it would leave a worker with nothing while another holds two.
    leases = cameras(4)
    for lease in leases[:2]:
        streams.lease_claim(lease_id=lease.pk, holder="w1/1/a")
    for lease in leases[2:]:
        streams.lease_claim(lease_id=lease.pk, holder="w1/1/b")
        streams.lease_release(lease_id=lease.pk, holder="w1/1/b", status={})  # failed
    workers = [
        stream_runner.stream_worker_beat(name=name, serving=serving, capacity=4)
        for name, serving in [("w2/2/a", 0), ("w1/1/a", 2)]
    ][-1]
    judged = stream_runner.share_judge(name="w1/1/a", serving=2, workers=workers)
    assert (judged.share, judged.surplus) == (1, 1)
