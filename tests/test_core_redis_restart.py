"""A restarted Redis loses nothing that matters: the layer and the broker reconnect.

Runs its own throw-away redis-server on a free port, so it can stop and start it.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer
from django.utils import timezone
from redis.exceptions import RedisError

from tests.helpers import PYTHON, ROOT, subprocess_env

pytestmark = pytest.mark.slow


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, port):
        self.port, self.proc = port, None

    def start(self):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def redis_server():
    server = Redis(_free_port())
    server.start()
    yield server
    if server.proc.poll() is None:
        server.stop()


def test_it_pushes_again_after_redis_restarts(redis_server):
    layer = RedisChannelLayer(hosts=[f"redis://127.0.0.1:{redis_server.port}/0"])

    async def roundtrip():
        channel = await layer.new_channel()
        await layer.group_add("g", channel)
        await layer.group_send("g", {"type": "alert.new", "seq": 1})
        return await layer.receive(channel)

    assert async_to_sync(roundtrip)()["seq"] == 1
    redis_server.stop()
    with pytest.raises((OSError, ConnectionError, RedisError)):
        async_to_sync(roundtrip)()  # down: the caller sees an error (alerts stay in the DB)
    redis_server.start()
    assert async_to_sync(roundtrip)()["seq"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_carries_on_after_redis_restarts(redis_server):
    """A real worker and a real sender on a Redis that is restarted (and so emptied)."""
    from core.models import WorkerHeartbeat

    url = f"redis://127.0.0.1:{redis_server.port}/0"
    env = subprocess_env(REDIS_URL=url, DJANGO_SETTINGS_MODULE="lfr_site.settings")
    worker = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "lfr_site",
            "worker",
            "-Q",
            "default",
            "--pool",
            "solo",
            "--hostname",
            "restart@test",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    send = [
        PYTHON,
        "-c",
        "import django; django.setup(); from core.tasks import worker_heartbeat;"
        " worker_heartbeat.apply_async(retry=True)",
    ]

    def beats_after(t0, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            subprocess.run(send, cwd=ROOT, env=env, check=True, timeout=60)
            time.sleep(1)
            beat = WorkerHeartbeat.objects.filter(hostname="restart@test").first()
            if beat and beat.seen_at > t0:
                return True
        return False

    try:
        assert beats_after(timezone.now())
        redis_server.stop()
        time.sleep(1)
        redis_server.start()
        assert beats_after(timezone.now(), seconds=60), "worker did not consume after restart"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
