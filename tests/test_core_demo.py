"""`make demo`'s last three steps on a fresh embedded default: migrate, seed, serve."""

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import PYTHON, ROOT

pytestmark = pytest.mark.slow


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_seeds_and_serves_the_login_page_on_the_embedded_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["LFR_VAR_DIR"] = str(tmp_path)
    run = dict(cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], **run).returncode == 0
    seeded = subprocess.run([PYTHON, "manage.py", "seed_demo"], **run)
    assert seeded.returncode == 0, seeded.stderr
    assert re.search(r"officer\s+\S+\s+Officer", seeded.stdout)
    again = subprocess.run([PYTHON, "manage.py", "seed_demo"], **run)
    assert "exist already" in again.stdout  # idempotent, and passwords are not shown twice

    port = _free_port()
    server = subprocess.Popen(
        [PYTHON, "manage.py", "lfr_demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as r:
                    assert r.status == 200 and b"Log in" in r.read()
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "login page not served within 2 minutes"
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
