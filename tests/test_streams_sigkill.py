"""Real stream workers: SIGKILL mid-stream, and warm shutdown (solo and prefork pools).

A killed worker's camera is taken by the other worker once the lease is stale; a worker
told to stop (SIGTERM) hands its camera over at once and exits without being killed.
"""

import os
import signal
import subprocess
from datetime import timedelta

import pytest

from lfr_site.celery import app
from recognition import tasks
from recognition.models import Alert, StreamLease
from tests.fixtures_recognition import watchlist_rows
from tests.helpers import PYTHON, subprocess_env, until

STALE_SECONDS = 5


class Worker:
    """A real `celery worker` on the streams queue, in its own process group."""

    def __init__(self, name, tmp_path, pool="solo", stale=STALE_SECONDS):
        self.log = tmp_path / f"{name}.log"
        env = subprocess_env(
            LFR_ALLOW_DETACHED_WORKER="1",
            LFR_STREAM_LEASE_STALE_SECONDS=str(stale),
        )
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [PYTHON, "-m", "celery", "-A", "lfr_site", "worker", "-Q", "streams,default",
                 "--pool", pool, "-c", "1", "-n", f"{name}@%h", "-l", "WARNING",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=tmp_path,  # the filesystem transport keeps control files in the cwd
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self):
        return self.proc.pid

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def tail(self):
        return self.log.read_text(errors="replace")[-3000:]


def purge_queues():
    """Old slice messages (other runs, other databases) must not reach these workers."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in ("streams", "default"):
            try:
                channel.queue_purge(queue)
            except Exception:  # a queue never declared on this broker: nothing to purge
                pass


def parent_of(pid):
    """The parent's pid (a prefork child's worker), or None once it is gone."""
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


class Stream:
    """A live deployment on a looping camera, its lease, and two real workers."""

    def __init__(self, deployment, workers):
        self.deployment, self.workers = deployment, workers
        self.lease = StreamLease.objects.get(deployment=deployment)

    def holder(self):
        self.lease.refresh_from_db()
        # A holder is "worker/pid/token" (streams.holder_id); a free lease has none.
        parts = self.lease.holder.rsplit("/", 2)
        return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None

    def last_seq(self):
        """The latest match: a new alert, or a sighting of one (one alert per sighting)."""
        alerts = Alert.objects.filter(deployment=self.deployment)
        return alerts.count() and alerts.latest("changed_seq").changed_seq

    def wait(self, what, condition, seconds, **kwargs):
        kwargs.setdefault("poll", 0.5)
        return until(what, condition, seconds, on_timeout=self.logs, **kwargs)

    def logs(self):
        return "\n".join(f"--- {w.log.name}\n{w.tail()}" for w in self.workers)

    def worker_holding(self):
        """Wait until a slice runs and alerts; then (holder, the other worker)."""
        self.wait("a first alert", self.last_seq, 120)
        pid = self.wait("a lease holder", self.holder, 60)
        holder = next(w for w in self.workers if w.pid in (pid, parent_of(pid)))
        return holder, next(w for w in self.workers if w is not holder)


@pytest.fixture(params=["solo"])
def pool(request):
    return request.param


@pytest.fixture(params=[STALE_SECONDS])
def stale(request):
    """The workers' stale period; a hand-over test makes it unreachable (an hour)."""
    return request.param


@pytest.fixture
def stream(stream_deployment, tmp_path, settings, pool, stale):
    # The test plays beat (the supervisor), so it judges staleness like the workers do.
    settings.LFR_STREAM_LEASE_STALE_SECONDS = STALE_SECONDS
    # Lin-Manuel Miranda faces the camera for seconds in every loop of the clip.
    deployment = stream_deployment(
        rows=watchlist_rows("lin-manuel-miranda.png"),
        loop=True,
        threshold=0.6,  # the library's tolerance: an alert in every loop, whatever the tuning
    )
    purge_queues()
    workers = [Worker("w1", tmp_path, pool, stale), Worker("w2", tmp_path, pool, stale)]
    try:
        tasks.stream_supervisor()  # creates the lease; a worker's runner claims it
        yield Stream(deployment, workers)
    finally:
        for worker in workers:
            worker.kill()
        purge_queues()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_resumes_a_killed_workers_camera_on_another_worker(stream):
    victim, survivor = stream.worker_holding()
    victim.kill()
    seq_at_kill = stream.last_seq()
    # Still the dead worker's: nothing but a stale takeover can move it now.
    assert stream.holder() == victim.pid
    last_beat = stream.lease.heartbeat_at  # the dead worker's last; it cannot beat again

    # The beat job runs every 10 s in production; here the test plays beat.
    stream.wait(
        "the survivor to take the lease",
        lambda: stream.holder() == survivor.pid,
        60,
        poll=1.0,
        during=tasks.stream_supervisor,
    )
    stream.wait(
        "a new match from the survivor",
        lambda: stream.last_seq() > seq_at_kill,
        120,
        during=tasks.stream_supervisor,
    )
    assert survivor.proc.poll() is None
    # Counts reach the lease at the survivor's heartbeats (a kill loses at most one beat's).
    stream.wait("faces counted", lambda: stream.holder() and stream.lease.faces_seen > 0, 30)
    # A stale takeover: the survivor claimed (and beat) only once the dead holder's last
    # heartbeat was older than the staleness limit, never sooner.
    assert stream.lease.heartbeat_at - last_beat >= timedelta(seconds=STALE_SECONDS)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pool", ["solo", "prefork"], indirect=True)
@pytest.mark.parametrize("stale", [3600], indirect=True)
def test_it_hands_a_stopped_workers_camera_over_without_waiting(stream):
    leaving, staying = stream.worker_holding()
    # A deploy or Ctrl-C: Celery's warm shutdown, signalled to the worker's main process
    # only (a prefork child never sees it).
    os.kill(leaving.pid, signal.SIGTERM)
    seq_at_stop = stream.last_seq()
    # It exits by itself (nothing had to be killed), with Celery's clean exit status.
    assert leaving.proc.wait(timeout=60) == 0
    # Staleness takes an hour here: the session ended at once and handed the lease over.
    stream.wait(
        "the other worker to take the lease",
        lambda: staying.pid in (stream.holder(), parent_of(stream.holder())),
        60,
    )
    stream.wait("a new match", lambda: stream.last_seq() > seq_at_stop, 120)
