"""The Procfile: the production processes of docs/PRODUCTION.md started by one command."""

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ROOT, subprocess_env, until
from tests.test_core_redis_restart import _free_port, redis_server  # noqa: F401 (a fixture)

TOKEN = "procfile-test-metrics-token-0123"


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def test_the_procfile_runs_the_processes_of_the_production_diagram():
    procs = procfile()
    assert set(procs) == {"web", "streams", "default", "beat"}
    assert "daphne --proxy-headers" in procs["web"] and "lfr_site.asgi:application" in procs["web"]
    assert "-Q streams --concurrency 1" in procs["streams"]
    assert "-Q default" in procs["default"] and "lfr_site beat" in procs["beat"]
    production = (ROOT / "docs" / "PRODUCTION.md").read_text()
    assert "daphne --proxy-headers" in production and "honcho start" in production


def _get(url, token=None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return None, ""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_honcho_starts_every_process_and_stops_them_together(redis_server, tmp_path):  # noqa: F811
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = subprocess_env(
        REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/0",
        LFR_METRICS_TOKEN=TOKEN,
        LFR_VAR_DIR=str(tmp_path / "var"),
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )
    log = tmp_path / "honcho.log"
    with log.open("w") as out:
        honcho = subprocess.Popen(
            [
                f"{bin_dir}/honcho",
                "-f",
                str(ROOT / "Procfile"),
                "-d",
                str(ROOT),
                "start",
                "-p",
                str(port),
            ],  # fmt: skip
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        until("the web process ready", lambda: _get(f"{base}/health/ready/")[0] == 200,
              seconds=120, on_timeout=log.read_text)  # fmt: skip
        until(
            "the stream worker registered",
            lambda: "lfr_stream_workers 1" in _get(f"{base}/metrics", TOKEN)[1],
            seconds=120,
            on_timeout=log.read_text,
        )
        assert honcho.poll() is None, log.read_text()  # honcho stops all if one exits
        started = set(re.findall(r"(\w+)\.1 started", log.read_text()))
        assert started == {"web", "streams", "default", "beat"}, log.read_text()
        # Our INFO lines reach the worker's log at the default LOG_LEVEL (issue 27: a
        # stream session's log lines were invisible).
        until("the stream runner's log line", lambda: re.search(r"streams\.1 .*stream runner",
              log.read_text()), seconds=60, on_timeout=log.read_text)  # fmt: skip
    finally:
        honcho.send_signal(signal.SIGTERM)  # as systemd or Ctrl-C would: honcho alone
        try:
            honcho.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            raise
    stopped = set(re.findall(r"(\w+)\.1 stopped", log.read_text()))
    assert stopped == {"web", "streams", "default", "beat"}, log.read_text()
