"""`manage.py lfr_demo` leaves nothing behind when it dies, and starts again on its data.

Celery's embedded beat used to run as a child *process*: every crash of the server left
it orphaned (parent PID 1), still writing tasks into var/broker and holding the beat
schedule. The server runs in its own session here, so every process it ever started
shares its process group, and the test looks for survivors in that group.
"""

import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import PYTHON, ROOT
from tests.test_core_demo import _free_port


def _group(pgid: int) -> list[tuple[int, int, str]]:
    """(pid, parent pid, name) of every live process in process group `pgid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it exited while we looked
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            found.append((int(entry.name), int(ppid), name))
    return found


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


class Demo:
    """One `manage.py lfr_demo` in its own session, on a fresh port."""

    def __init__(self, env, log: Path):
        self.port, self.log = _free_port(), log
        self.started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        self.proc = subprocess.Popen(
            [PYTHON, "manage.py", "lfr_demo", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # As a background job of a non-interactive shell (CI) starts it: SIGINT
            # ignored. Ctrl-C must stop the server all the same.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def wait_serving(self):
        deadline = time.monotonic() + 120
        while True:
            try:
                url = f"http://127.0.0.1:{self.port}/accounts/login/"
                with urllib.request.urlopen(url, timeout=10) as r:
                    assert r.status == 200
                    return
            except OSError:
                assert self.proc.poll() is None, self.output()
                assert time.monotonic() < deadline, "not serving within 2 minutes"
                time.sleep(0.5)

    def stop_and_survivors(self, sig) -> list:
        """Send `sig` as a crash (SIGKILL, to the server) or Ctrl-C would; who is left."""
        if sig == signal.SIGKILL:
            os.kill(self.proc.pid, sig)
        else:
            os.killpg(self.proc.pid, sig)  # a terminal sends Ctrl-C to the whole group
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"lfr_demo did not stop on {sig!r}")
        # Exited processes may take a moment to leave /proc; poll with a deadline.
        deadline = time.monotonic() + 10
        while (left := _group(self.proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left

    def cleanup(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)


def _heartbeat_since(db: Path, since: str) -> bool:
    """True once the embedded worker ran beat's heartbeat job after `since`."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute("SELECT max(seen_at) FROM core_workerheartbeat").fetchone()
    return bool(row[0]) and row[0] >= since


def _wait_heartbeat(demo: Demo, db: Path):
    deadline = time.monotonic() + 90
    while not _heartbeat_since(db, demo.started):
        assert demo.proc.poll() is None, demo.output()
        assert time.monotonic() < deadline, "beat and worker ran no heartbeat in 90 s"
        time.sleep(0.5)


@pytest.mark.slow
def test_it_leaves_no_process_behind_and_restarts_on_its_data(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["LFR_VAR_DIR"] = str(tmp_path)
    run = dict(cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    migrated = subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], **run)
    assert migrated.returncode == 0, migrated.stderr
    db = tmp_path / "lfr.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined) VALUES ('!', 0, 'kept', '', '', '',"
            " 0, 1, '2025-01-01 00:00:00')"
        )

    crashed = Demo(env, tmp_path / "demo.log")
    try:
        crashed.wait_serving()
        _wait_heartbeat(crashed, db)  # beat and the worker are up, not merely the server
        children = _children(crashed.proc.pid)
        left = crashed.stop_and_survivors(signal.SIGKILL)
        assert left == [], f"survived the server's SIGKILL (children were {children}): {left}"
    finally:
        crashed.cleanup()

    for sig in (signal.SIGINT, signal.SIGINT):
        again = Demo(env, tmp_path / "demo.log")
        try:
            again.wait_serving()
            _wait_heartbeat(again, db)  # beat's schedule and the broker work after the stop
            left = again.stop_and_survivors(sig)
            assert left == [], f"survived Ctrl-C: {left}"
            assert again.proc.returncode is not None
        finally:
            again.cleanup()

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM auth_user WHERE username='kept'").fetchone()[0]


def test_it_skips_a_message_file_a_crash_left_empty(tmp_path):
    from kombu import Connection

    import lfr_site.celery  # noqa: F401  (registers the safe file-system transport)

    folders = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://", transport_options=folders) as conn:
        queue = conn.SimpleQueue("default")
        (tmp_path / "0_torn.default.msg").write_bytes(b"")  # killed between create and write
        queue.put({"n": 1})
        assert [p.suffix for p in tmp_path.iterdir()] == [".msg", ".msg"]
        message = queue.get(timeout=5)
        assert message.payload == {"n": 1}
        message.ack()
        queue.close()
    assert list(tmp_path.iterdir()) == []
