"""Issue 14.5: request bodies are bounded before anything parses them.

Twisted (under daphne) parsed a multipart body into memory before Django saw it: an
anonymous 100 MB POST to a page that does not exist took the server from 523 to 1,734 MB.
"""

import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from lfr_site.asgi import application
from tests.helpers import PYTHON, ROOT, subprocess_env

MB = 1024 * 1024
BOUNDARY = "lfrboundary"


def test_the_limit_fits_the_largest_legitimate_upload():
    # A watchlist image at its own limit, with the multipart envelope and form fields.
    assert settings.LFR_MAX_REQUEST_BYTES >= settings.LFR_MAX_UPLOAD_BYTES + MB


def _asgi(headers, bodies):
    """Run one request through the real ASGI app, the body in the given pieces."""
    from asgiref.sync import async_to_sync
    from asgiref.testing import ApplicationCommunicator

    async def run():
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/no-such-page/",
            "raw_path": b"/no-such-page/",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1234),
            "server": ("127.0.0.1", 80),
            "scheme": "http",
            "http_version": "1.1",
        }
        communicator = ApplicationCommunicator(application, scope)
        for i, body in enumerate(bodies):
            await communicator.send_input(
                {"type": "http.request", "body": body, "more_body": i < len(bodies) - 1}
            )
        start = await communicator.receive_output(30)
        body = await communicator.receive_output(30)
        await communicator.wait(30)
        return start, body

    return async_to_sync(run)()


def test_it_refuses_a_declared_length_over_the_limit_without_reading_it(settings, db):
    settings.LFR_MAX_REQUEST_BYTES = 64 * 1024
    headers = [(b"content-length", str(10 * MB).encode()), (b"content-type", b"text/plain")]
    start, body = _asgi(headers, [b""])
    assert start["status"] == 413
    assert b"larger than this server accepts" in body["body"]


def test_it_refuses_an_undeclared_length_once_it_passes_the_limit(settings, db):
    settings.LFR_MAX_REQUEST_BYTES = 64 * 1024
    start, _ = _asgi([(b"content-type", b"text/plain")], [b"x" * 40_000] * 3)
    assert start["status"] == 413


def test_it_lets_a_body_within_the_limit_through(settings, db):
    settings.LFR_MAX_REQUEST_BYTES = 64 * 1024
    headers = [(b"content-length", b"1000"), (b"content-type", b"text/plain")]
    start, _ = _asgi(headers, [b"x" * 1000])
    assert start["status"] != 413  # Django answers (CSRF refusal or 404)


# --- The real server ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _wait_serving(proc, port):
    deadline = time.monotonic() + 120
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        assert proc.poll() is None, "server exited"
        assert time.monotonic() < deadline, "not serving within 2 minutes"
        time.sleep(0.2)


def _headers(port, length=None, chunked=False):
    lines = [
        "POST /no-such-page/ HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
    ]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _multipart(total: int):
    """A multipart body of `total` bytes, produced 1 MB at a time (never held whole)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    yield head
    left = total - len(head) - len(tail)
    block = b"A" * MB
    while left > 0:
        yield block[: min(left, MB)]
        left -= MB
    yield tail


def _send_body(port, total, chunked=False):
    """Send one POST with a `total`-byte multipart body; return the status line (or what
    the connection said when the server closed it mid-body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(_headers(port, total, chunked))
        try:
            for piece in _multipart(total):
                s.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            if chunked:
                s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused the body and closed: the point
        try:
            return s.recv(200).split(b"\r\n", 1)[0]
        except ConnectionResetError:
            return b"(reset)"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_100_mb_anonymous_post_leaves_the_real_server_small(tmp_path, capsys):
    port = _free_port()
    env = subprocess_env(DJANGO_SETTINGS_MODULE="lfr_site.settings")
    log = open(tmp_path / "daphne.log", "w")
    proc = subprocess.Popen(
        [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "lfr_site.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_serving(proc, port)
        before = _rss_mb(proc.pid)
        # Declared length: refused as soon as the headers arrive, nothing read.
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(_headers(port, 100 * MB))
            answer = b""
            while b"\r\n\r\n" not in answer and (chunk := s.recv(1024)):
                answer += chunk
        status, headers = answer.split(b"\r\n", 1)
        assert status == b"HTTP/1.1 413 Content Too Large", status
        assert b"content-security-policy: default-src 'none'" in headers.lower(), headers
        # A legitimate upload's size goes through to Django (a 404 for this page).
        assert _send_body(port, 2 * MB) == b"HTTP/1.1 404 Not Found"
        _send_body(port, 100 * MB)
        _send_body(port, 100 * MB, chunked=True)  # no length declared: counted as it comes
        after = _rss_mb(proc.pid)
        with capsys.disabled():
            print(
                f"\nlfr: daphne RSS {before:.0f} MB before, {after:.0f} MB after two 100 MB "
                f"anonymous multipart POSTs (limit LFR_MAX_REQUEST_BYTES = "
                f"{settings.LFR_MAX_REQUEST_BYTES // MB} MiB)"
            )
        assert after - before < 50, (before, after)
        # And the server still serves.
        _wait_serving(proc, port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
