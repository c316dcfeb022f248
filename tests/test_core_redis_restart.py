"""A restarted Redis loses nothing that matters: the layer and the broker reconnect.

Runs its own throw-away redis-server on a free port, so it can stop and start it (the
machine's shared Redis is never touched). The last test is the assurance figure: officers
watch a live deployment through daphne while another process raises alerts, and Redis is
killed and restarted (emptied: no persistence) in the middle; every officer must end up
with every alert, and the figure says how many arrived live (by the layer's nudge) rather
than by the console's resume or tick.
"""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.test import Client
from django.utils import timezone
from redis.exceptions import RedisError

from core import access
from tests.factories import make_deployment
from tests.figures import MEASURED, check_doc, write_figure
from tests.fixtures_console import Daphne
from tests.helpers import PYTHON, ROOT, make_user, sign_in, subprocess_env
from tests.test_console_embedded import MiniSocket

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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # poll until it listens
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
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
            beat = WorkerHeartbeat.objects.filter(hostname="restart@test").first()
            if beat and beat.seen_at > t0:
                return True
        return False

    try:
        assert beats_after(timezone.now())
        redis_server.stop()
        redis_server.start()
        assert beats_after(timezone.now(), seconds=60), "worker did not consume after restart"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


# --- The fault figure: officers watching while Redis restarts ----------------------------

RAISER = """
import sys, django
django.setup()
from deployments.models import Deployment
from tests.factories import make_alert
deployment = Deployment.objects.get(pk=int(sys.argv[1]))
for line in sys.stdin:
    print(make_alert(deployment).seq, flush=True)
"""


class Officer:
    """A console page's socket: resumes from the last seq it showed, reconnects if closed."""

    def __init__(self, cookie: str, changed: asyncio.Condition):
        self.cookie, self.changed = cookie, changed
        self.first_via: dict[int, str] = {}  # seq -> how it first arrived
        self.connections = 0

    async def run(self, server, path):
        while True:
            try:
                sock = await MiniSocket.connect(
                    "127.0.0.1", server.port, path, origin=server.url, cookie=self.cookie
                )
            except (OSError, ConnectionError):
                await asyncio.sleep(0.2)  # the page's reconnect back-off, not a wait
                continue
            self.connections += 1
            try:
                await sock.send_json(
                    {"type": "resume", "after_seq": max(self.first_via, default=0)}
                )
                while (message := await sock.receive_json())["type"] != "closed":
                    if message["type"] == "alerts":
                        async with self.changed:
                            for alert in message["alerts"]:
                                self.first_via.setdefault(alert["seq"], message["via"])
                            self.changed.notify_all()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                sock.close()


class Raiser:
    """A separate process raising alerts through the real service, on the same Redis."""

    def __init__(self, env, deployment_id):
        self.proc = subprocess.Popen(
            [PYTHON, "-c", RAISER, str(deployment_id)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def raise_one(self) -> int:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


OFFICERS, BEFORE, DURING, AFTER = 4, 5, 5, 10
DELIVERY_DEADLINE = 60  # seconds: the console's tick (5 s) heals well within it


@pytest.mark.django_db(transaction=True)
def test_officers_lose_no_alert_when_redis_restarts_and_it_prints_the_figure(
    redis_server, tmp_path, capsys
):
    officers = [make_user(f"rr-officer{i}", access.OFFICER) for i in range(OFFICERS)]
    deployment = make_deployment(officers=officers)
    cookies = []
    for officer in officers:
        client = Client()
        sign_in(client, officer)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    (tmp_path / "var").mkdir()
    env = subprocess_env(
        REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/0",
        LFR_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY=settings.SECRET_KEY,
    )
    server = Daphne(env, tmp_path / "daphne.log")
    raiser = Raiser(env, deployment.pk)
    phases: dict[str, list[int]] = {"before": [], "during": [], "after": []}
    restarted = {}

    async def scenario():
        changed = asyncio.Condition()
        consoles = [Officer(c, changed) for c in cookies]
        path = f"/ws/deployments/{deployment.pk}/alerts/"
        tasks = [asyncio.create_task(o.run(server, path)) for o in consoles]

        async def all_have(seqs):
            async with changed:
                await asyncio.wait_for(
                    changed.wait_for(lambda: all(set(seqs) <= set(o.first_via) for o in consoles)),
                    DELIVERY_DEADLINE,
                )

        try:
            await all_have([])
            for _ in range(BEFORE):
                phases["before"].append(await asyncio.to_thread(raiser.raise_one))
                await all_have(phases["before"][-1:])
            redis_server.stop()
            for _ in range(DURING):  # committed while the layer is down
                phases["during"].append(await asyncio.to_thread(raiser.raise_one))
            redis_server.start()
            restarted["at"] = time.monotonic()
            for _ in range(AFTER):
                phases["after"].append(await asyncio.to_thread(raiser.raise_one))
                await all_have(phases["during"] + phases["after"][-1:])
                if "live_again" not in restarted and all(
                    o.first_via[phases["after"][-1]] == "nudge" for o in consoles
                ):
                    restarted["live_again"] = time.monotonic() - restarted["at"]
        finally:
            for task in tasks:
                task.cancel()
        return consoles

    try:
        consoles = asyncio.run(scenario())
    finally:
        raiser.stop()
        server.stop()

    raised = [seq for seqs in phases.values() for seq in seqs]
    lost = sum(len(set(raised) - set(o.first_via)) for o in consoles)
    live = {
        phase: sum(o.first_via[s] == "nudge" for o in consoles for s in phases[phase])
        / (len(phases[phase]) * OFFICERS)
        for phase in ("before", "after")
    }
    figure = {
        "officers": OFFICERS,
        "alerts_raised": len(raised),
        "alerts_lost": lost,
        "share_live_before": live["before"],
        "share_live_after": live["after"],
        "seconds_until_live_again": round(restarted.get("live_again", -1), 1),
        "reconnects": sum(o.connections - 1 for o in consoles),
    }
    write_figure("redis_restart", figure)
    line = (
        f"redis restart: {OFFICERS} officers, {len(raised)} alerts raised "
        f"({DURING} while Redis was down), alerts lost {lost}"
        f"{MEASURED}share delivered live {live['before']:.0%} before the restart, "
        f"{live['after']:.0%} after; live again {figure['seconds_until_live_again']} s after"
        f" Redis came back; {figure['reconnects']} socket reconnects"
    )
    with capsys.disabled():
        print(f"\n{line}")
    assert lost == 0
    assert "live_again" in restarted, "no alert was pushed live after Redis came back"
    check_doc(line)
