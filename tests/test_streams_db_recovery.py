"""A stream slice that meets a locked or lost database backs off and carries on.

The failure is injected at one exact call: either that call raises OperationalError once
("database is locked", SQLite's answer past its busy timeout), or, on PostgreSQL, the
slice's own connection is terminated from another connection just before the call.
"""

import time

import cv2
import numpy as np
import pytest
from django.db import OperationalError, connection

from recognition.models import Alert, StreamLease
from recognition.services import streams
from tests.fixtures_recognition import watchlist_rows
from tests.helpers import faces

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="terminating a backend needs PostgreSQL"
)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(streams, "DB_RETRY_DELAYS", (0.01, 0.01, 0.01), raising=False)


def obama_video(path, frames=3):
    """A few 640x480 frames of obama.jpg (a watchlisted face), at 100 fps."""
    photo = cv2.imread(str(faces("examples", "obama.jpg")))
    photo = cv2.resize(photo, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 100, (640, 480))
    for _ in range(frames):
        frame = np.full((480, 640, 3), 90, np.uint8)
        frame[20 : 20 + photo.shape[0], 100 : 100 + photo.shape[1]] = photo
        writer.write(frame)
    writer.release()
    return path.name


@pytest.fixture
def obama_lease(stream_deployment, tmp_path, settings):
    settings.LFR_CAMERA_FILE_ROOT = tmp_path
    deployment = stream_deployment(
        rows=watchlist_rows("obama.jpg"), stream_url=obama_video(tmp_path / "obama.mp4")
    )
    return StreamLease.objects.create(deployment=deployment, camera=deployment.cameras.get())


def fail_once(monkeypatch, name, failure, on=1):
    """Make streams.<name> meet `failure()` on its `on`-th call only; count the calls."""
    real, calls = getattr(streams, name), []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == on:
            failure()
        return real(*args, **kwargs)

    monkeypatch.setattr(streams, name, flaky)
    return calls


def locked():
    raise OperationalError("database is locked")


def terminate_own_connection():
    """Kill this thread's PostgreSQL backend from a second connection, as a restart would."""
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def run(lease):
    outcome = streams.stream_slice_run(lease_id=lease.pk, holder="w/1/a", seconds=30)
    lease.refresh_from_db()
    return outcome


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "call", ["lease_claim", "_still_wanted", "lease_release", "alert_raise", "lease_heartbeat"]
)
def test_it_retries_a_call_that_met_a_locked_database(obama_lease, monkeypatch, call):
    calls = fail_once(monkeypatch, call, locked)
    outcome = run(obama_lease)
    assert (outcome.claimed, outcome.reason, outcome.frames) == (True, "end of file", 3)
    assert len(calls) >= 2
    assert obama_lease.holder == ""  # released, not stuck until it looks stale
    assert outcome.alerts == 1
    assert [a.subject_reference for a in Alert.objects.all()] == ["obama"]


@on_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("call", ["lease_claim", "_still_wanted", "lease_release", "alert_raise"])
def test_it_reconnects_when_its_connection_was_terminated(obama_lease, monkeypatch, call):
    fail_once(monkeypatch, call, terminate_own_connection)
    outcome = run(obama_lease)
    assert (outcome.claimed, outcome.reason, outcome.frames) == (True, "end of file", 3)
    assert obama_lease.holder == ""
    assert [a.subject_reference for a in Alert.objects.all()] == ["obama"]


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_it_beats_again_after_its_connection_was_terminated(obama_lease, monkeypatch, tmp_path):
    # 11 frames: the detector takes frames 0, 5 and 10, with a beat after each.
    obama_video(tmp_path / "obama.mp4", frames=11)
    monkeypatch.setattr(streams, "HEARTBEAT_SECONDS", 0.0)  # a beat after every frame taken
    # Call 1 is the slice's start; call 2 is inside the first beat, after its write.
    calls = fail_once(monkeypatch, "_still_wanted", terminate_own_connection, on=2)
    outcome = run(obama_lease)
    assert (outcome.reason, outcome.frames) == ("end of file", 11)
    assert len(calls) >= 3
    assert obama_lease.holder == "" and obama_lease.frames_in == 11


@pytest.mark.django_db(transaction=True)
def test_it_keeps_an_alert_it_could_not_write_and_says_so(obama_lease, monkeypatch, caplog):
    def always_locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(streams, "alert_raise", always_locked)
    outcome = run(obama_lease)
    assert outcome.reason == "end of file" and outcome.alerts == 0
    assert obama_lease.holder == ""
    assert "1 alert(s) could not be written" in obama_lease.last_error
    assert "1 alert(s) could not be written" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_it_keeps_claiming_after_the_database_refused_a_claim(obama_lease, monkeypatch):
    from recognition.services import stream_runner

    real, calls = stream_runner.claimable_lease_ids, []

    def flaky(**kwargs):
        calls.append(1)
        return locked() if len(calls) == 1 else real(**kwargs)

    served = []
    monkeypatch.setattr(stream_runner, "claimable_lease_ids", flaky)
    monkeypatch.setattr(
        stream_runner, "stream_slice_run", lambda **kwargs: served.append(kwargs["lease_id"])
    )
    runner = stream_runner.StreamRunner(worker="w", capacity=1, poll=0.05).start()
    try:
        deadline = time.monotonic() + 60
        while not served and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.stop()
    assert served == [obama_lease.pk] and len(calls) > 1
