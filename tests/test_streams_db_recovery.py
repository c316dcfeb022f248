"""A stream slice that meets a locked or lost database backs off and carries on.

The failure is injected at one exact call: either that call raises OperationalError once
("database is locked", SQLite's answer past its busy timeout), or, on PostgreSQL, the
slice's own connection is terminated from another connection just before the call.
The last test is the assurance figure: real processes (daphne serving an officer's
requests, a Celery stream worker alerting on a looping camera) while every backend of the
test database is terminated, three times.
"""

import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import cv2
import numpy as np
import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

from core import access
from recognition import tasks
from recognition.models import Alert, StreamLease
from recognition.services import streams
from tests.figures import MEASURED, check_doc, write_figure
from tests.fixtures_recognition import watchlist_rows
from tests.helpers import faces, make_user, sign_in, subprocess_env

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


# --- The fault figure: every backend of the database terminated, under load ------------

TERMINATIONS = 3


# The web server's and the worker's connections carry this name (libpq's PGAPPNAME), so
# only theirs are terminated: other connections of the test process (a live-server thread
# kept for later browser tests) are left alone.
APP_NAME = "lfr-fault-subject"


def terminate_all_other_backends() -> int:
    """pg_terminate_backend every connection of the app's processes to THIS test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name = %s",
            [APP_NAME],
        )
        return cursor.fetchone()[0]


class WebLoad:
    """An officer polling the alerts API through daphne, as a console's replay does."""

    def __init__(self, url: str, cookie: str):
        self.url, self.cookie = url, cookie
        self.results: list[tuple[float, int]] = []  # (monotonic time, status; 0: no answer)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            request = urllib.request.Request(self.url, headers={"Cookie": self.cookie})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            self.results.append((time.monotonic(), status))
            self.stop.wait(0.1)  # pacing, so the worker keeps its share of two cores

    def ok_since(self, moment: float) -> bool:
        return any(t > moment and status == 200 for t, status in self.results)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=60)


@on_postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_web_and_stream_worker_recover_when_every_backend_is_terminated(
    stream_deployment, tmp_path, capsys, monkeypatch
):
    from tests.fixtures_console import Daphne
    from tests.helpers import until
    from tests.test_streams_sigkill import Worker, purge_queues

    deployment = stream_deployment(
        rows=watchlist_rows("lin-manuel-miranda.png"), loop=True, threshold=0.6
    )
    officer = make_user("dbr-officer", access.OFFICER)
    deployment.officers.add(officer)
    client = Client()
    sign_in(client, officer)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    (tmp_path / "var").mkdir()
    purge_queues()
    monkeypatch.setenv("PGAPPNAME", APP_NAME)  # inherited by the worker and daphne below
    worker = Worker("dbr", tmp_path)
    server = Daphne(
        subprocess_env(LFR_VAR_DIR=str(tmp_path / "var"), SECRET_KEY=settings.SECRET_KEY),
        tmp_path / "daphne.log",
    )
    web = WebLoad(f"{server.url}/api/v1/recognition/deployments/{deployment.pk}/alerts/", cookie)
    alerts = Alert.objects.filter(deployment=deployment)

    def last_change():
        # One alert per sighting: a subject still on screen updates its alert (changed_seq
        # grows, from the deployment's counter) rather than raising another.
        return max(alerts.values_list("changed_seq", flat=True), default=0) or 0

    terminated, web_recovery, worker_recovery = [], [], []
    try:
        tasks.stream_supervisor()  # the lease and its first slice, as beat does
        until("a first alert", last_change, 180, poll=0.5, on_timeout=worker.tail)
        until("web answering", lambda: web.ok_since(0), 60, poll=0.5, on_timeout=worker.tail)
        for _ in range(TERMINATIONS):
            seq, at = last_change(), time.monotonic()
            terminated.append(terminate_all_other_backends())
            until(
                "web to answer again",
                lambda at=at: web.ok_since(at),
                60,
                poll=0.5,
                on_timeout=worker.tail,
            )
            web_recovery.append(min(t for t, s in web.results if t > at and s == 200) - at)
            until(
                "the worker to record a match again",
                lambda seq=seq: last_change() > seq,
                180,
                poll=0.5,
                on_timeout=worker.tail,
                during=tasks.stream_supervisor,
            )
            worker_recovery.append(time.monotonic() - at)
        alive = worker.proc.poll() is None
    finally:
        web.close()
        server.stop()
        worker.kill()
        purge_queues()

    cards = list(alerts.values_list("subject_reference", "sightings"))
    # The one subject on screen throughout is one card: a second would be a duplicate.
    duplicates = len(cards) - len({reference for reference, _ in cards})
    sightings = sum(n for _, n in cards)
    unwritten = sum(
        "could not be written" in text
        for text in (worker.tail(), StreamLease.objects.get(deployment=deployment).last_error)
    )
    failed = Counter(status for _, status in web.results if status != 200)
    figure = {
        "terminations": TERMINATIONS,
        "backends_terminated": terminated,
        "alert_cards": len(cards),
        "sightings": sightings,
        "duplicates": duplicates,
        "unwritten_alert_reports": unwritten,
        "web_requests": len(web.results),
        "web_failed": dict(failed),
        "web_recovery_seconds": [round(s, 1) for s in web_recovery],
        "worker_recovery_seconds": [round(s, 1) for s in worker_recovery],
        "worker_alive": alive,
    }
    write_figure("db_terminate", figure)
    line = (
        f"database connections terminated: {TERMINATIONS} times under web load and a stream "
        f"worker; worker alive {figure['worker_alive']}, web and worker recovered every time, "
        f"matches reported unwritten {unwritten}, duplicates shown {duplicates}"
        f"{MEASURED}backends terminated {terminated}, {len(cards)} alert card(s), "
        f"{sightings} sightings, web requests "
        f"{len(web.results)} ({failed.total()} failed: {dict(failed)}), web answered again after "
        f"{figure['web_recovery_seconds']} s, worker recorded a match again after "
        f"{figure['worker_recovery_seconds']} s"
    )
    with capsys.disabled():
        print(f"\n{line}")
    assert figure["worker_alive"]
    assert (duplicates, unwritten) == (0, 0)
    # Only a request in flight at a termination may fail (one requester: at most one per
    # termination); a web process that kept a dead connection would fail on and on.
    assert failed.total() <= TERMINATIONS, failed
    check_doc(line)
