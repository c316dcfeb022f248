"""Redis down while a camera streams: reading goes on; no broker message is in its path.

Before continuous sessions, each slice published its successor through the broker: a
Redis outage at a slice boundary left the camera unread, shown connected with no holder.
The environment still sets the old slice length (10 s): nothing reads it any more.
"""

import os
import signal
import subprocess

import pytest

from recognition.models import StreamLease
from tests.fixtures_recognition import watchlist_rows
from tests.helpers import PYTHON, subprocess_env, until
from tests.test_core_redis_restart import Redis, _free_port
from tests.test_streams_sigkill import parent_of

CLIP_FRAMES = 275


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_keeps_reading_a_camera_while_redis_is_down(stream_deployment, tmp_path):
    redis = Redis(_free_port())
    redis.start()
    env = subprocess_env(
        LFR_ALLOW_DETACHED_WORKER="1",
        REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
    )
    deployment = stream_deployment(rows=watchlist_rows("lin-manuel-miranda.png"), loop=True)
    from recognition import tasks

    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "lfr_site", "worker", "-Q", "streams", "--pool",
             "prefork", "-c", "1", "-n", "outage@%h", "-l", "WARNING", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def logs():
        return log.read_text(errors="replace")[-3000:]

    def lease():
        return StreamLease.objects.filter(deployment=deployment).first()

    def held_by_worker():
        current = lease()
        if current is None or not current.holder or not current.frames_in:
            return None
        pid = int(current.holder.rsplit("/", 2)[1])
        return current if worker.pid in (pid, parent_of(pid)) else None

    try:
        # The test plays beat: its supervisor call creates the lease (no broker involved).
        until(
            "the lease",
            lambda: tasks.stream_supervisor() is not None and lease(),
            30,
            poll=0.5,
            on_timeout=logs,
        )
        before = until(
            "the worker to read the camera", held_by_worker, 180, poll=0.5, on_timeout=logs
        )
        redis.stop()
        # Three loops of the clip (about 28 s: well past the old 10 s slice boundary) read
        # in the same session, by the same holder, while Redis is down.
        after = until(
            "frames while Redis is down",
            lambda: (
                (cur := held_by_worker())
                and cur.frames_in > before.frames_in + 3 * CLIP_FRAMES
                and cur
            ),
            300,
            poll=0.5,
            on_timeout=logs,
        )
        assert after.holder == before.holder and after.slice_no == before.slice_no
        assert after.connected and after.last_error == ""
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        if redis.proc.poll() is None:
            redis.stop()
