"""The embedded-default trap: alerts must be pushed live, not only found on replay.

With no REDIS_URL the channel layer lives inside one process. A worker in another
process would save alerts that no socket ever hears about (they would still show up on
reconnect, so the system would look fine). `lfr_demo` runs the worker inside the
server; these tests prove the push path end to end and that a detached worker refuses.
"""

import asyncio
import base64
import json
import os
import struct
import subprocess

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.demo import seed_users
from deployments.models import Deployment
from tests.fixtures_console import Server
from tests.helpers import PYTHON, ROOT, sign_in, subprocess_env


class MiniSocket:
    """Just enough of RFC 6455 for a test client: text frames, masked as clients must."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, host, port, path, *, origin, cookie):
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\nCookie: {cookie}\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
        return cls(reader, writer)

    async def send_json(self, data):
        payload = json.dumps(data).encode()
        mask = os.urandom(4)
        assert len(payload) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
        await self.writer.drain()

    async def receive_json(self) -> dict:
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            payload = await self.reader.readexactly(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                return {"type": "closed", "code": code}
            if opcode == 0x1:
                return json.loads(payload)

    def close(self):
        self.writer.close()


async def watch(server, path: str, cookie: str, *, until, timeout: float) -> list[dict]:
    """Connect like the console page, resume from 0 and collect messages until `until`."""
    sock = await MiniSocket.connect(
        "127.0.0.1", server.port, path, origin=server.url, cookie=cookie
    )
    messages = []
    try:
        await sock.send_json({"type": "resume", "after_seq": 0})
        async with asyncio.timeout(timeout):
            while not until(messages):
                messages.append(await sock.receive_json())
                if messages[-1]["type"] == "closed":
                    break
    finally:
        sock.close()
    return messages


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_pushes_alerts_from_the_embedded_worker_live(client, tmp_path):
    seed_users()
    call_command("seed_demo_data")
    deployment = Deployment.objects.get(state=Deployment.State.LIVE)
    sign_in(client, get_user_model().objects.get(username="officer"))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    # Made here: with SECRET_KEY and REDIS_URL given nothing else creates it, and beat
    # keeps its schedule file there.
    (tmp_path / "var").mkdir()
    env = subprocess_env(LFR_VAR_DIR=str(tmp_path / "var"), SECRET_KEY=settings.SECRET_KEY)
    server = Server(env, tmp_path / "server.log")
    try:

        def pushed(messages):
            # A nudge reached the socket and alerts were shown. A tick may show an alert
            # before its nudge is handled; the nudge is then an empty "nudge" frame.
            nudged = any(m["type"] == "nudge" or m.get("via") == "nudge" for m in messages)
            return nudged and any(m["type"] == "alerts" and m["alerts"] for m in messages)

        messages = asyncio.run(
            watch(
                server,
                f"/ws/deployments/{deployment.pk}/alerts/",
                cookie,
                until=pushed,
                timeout=180,
            )
        )
    finally:
        server.stop()
    assert pushed(messages), [m.get("via", m["type"]) for m in messages]
    alerts = [a for m in messages if m["type"] == "alerts" for a in m["alerts"]]
    assert {a["subject_reference"] for a in alerts} <= {"DEMO-LMM", "DEMO-AL"}


@pytest.mark.slow
def test_it_refuses_a_detached_worker_on_the_in_process_layer(tmp_path):
    env = subprocess_env(LFR_VAR_DIR=str(tmp_path / "var"))
    env.pop("REDIS_URL", None)
    env.pop("LFR_EMBEDDED_WORKER", None)
    env.pop("LFR_ALLOW_DETACHED_WORKER", None)
    done = subprocess.run(
        [PYTHON, "-m", "celery", "-A", "lfr_site", "worker", "--pool=solo", "-Q", "default"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "REDIS_URL is not set" in done.stdout + done.stderr
