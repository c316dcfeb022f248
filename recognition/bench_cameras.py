"""Real cameras for tests and benchmarks: tools/rtsp_server.py (GStreamer) as a child process.

GStreamer's RTSP server comes from Debian packages through python3-gi, which belongs to
Debian's /usr/bin/python3 (not to the venv): `make test` installs the packages.
"""

import socket
import subprocess
import time
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "tools" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RtspCameras:
    """An RTSP server playing `clip` looped on each mount; `url(mount)` names a camera."""

    def __init__(self, clip: Path, mounts=("cam1",), port: int | None = None):
        self.port = port or free_port()
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, "-P", str(SERVER), "--port", str(self.port), "--clip", str(clip),
             "--mounts", ",".join(mounts)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline()  # "ready <port>", or the reason it could not start
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError(f"the RTSP server did not start: {line.strip()}")
        self._wait_listening()

    def _wait_listening(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def url(self, mount: str = "cam1") -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
