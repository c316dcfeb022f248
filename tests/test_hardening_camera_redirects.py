"""Issue 24.1: a camera cannot send the workers anywhere else. FFmpeg used to follow an
HTTP 302, an RTSP redirect and an HLS playlist's entries to any address (and resolve the
host again after the check); now every connection goes to the checked address through
the guard, redirects are refused and playlists are not read. Real local servers redirect
to a loopback "internal service" that must see no connection, from the administrator's
camera test and from a live stream worker alike."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from recognition.engine.netguard import Policy
from recognition.engine.sources import SourceError, open_source
from recognition.models import StreamLease
from recognition.services import streams
from tests.fixtures_recognition import watchlist_rows

API = "/api/v1/deployments/cameras/test/"


class Internal:
    """A loopback service the camera must never reach: it records every connection."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.port = self.sock.getsockname()[1]
        self.seen: list[tuple] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.seen.append(peer)
            conn.close()

    def connections(self) -> list:
        """Every connection so far, including those still in the accept queue."""
        self.sock.setblocking(False)
        try:
            while True:
                conn, peer = self.sock.accept()
                self.seen.append(peer)
                conn.close()
        except (BlockingIOError, OSError):
            pass
        return self.seen


@pytest.fixture
def internal():
    service = Internal()
    yield service
    service.sock.close()


def _http_camera(answer):
    """An HTTP server on loopback answering every GET with `answer(handler)`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            answer(self)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _redirect_to(internal):
    def answer(handler):
        handler.send_response(302)
        handler.send_header("Location", f"http://127.0.0.1:{internal.port}/video.mjpg")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def _playlist_to(internal):
    playlist = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:2.0,\nhttp://127.0.0.1:{internal.port}/segment0.ts\n"
        f"#EXTINF:2.0,\nhttp://127.0.0.1:{internal.port}/segment1.ts\n"
    ).encode()

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/vnd.apple.mpegurl")
        handler.send_header("Content-Length", str(len(playlist)))
        handler.end_headers()
        handler.wfile.write(playlist)

    return answer


class RtspRedirect:
    """A tiny RTSP server answering every request with `RTSP/1.0 302` to `location`."""

    def __init__(self, location: str):
        self.location = location
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        with conn:
            buffer = b""
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                buffer += data
                while b"\r\n\r\n" in buffer:
                    request, buffer = buffer.split(b"\r\n\r\n", 1)
                    cseq = next(
                        (
                            line.split(b":", 1)[1].strip()
                            for line in request.split(b"\r\n")
                            if line.lower().startswith(b"cseq:")
                        ),
                        b"1",
                    )
                    conn.sendall(
                        b"RTSP/1.0 302 Moved Temporarily\r\nCSeq: "
                        + cseq
                        + b"\r\nLocation: "
                        + self.location.encode()
                        + b"\r\nContent-Length: 0\r\n\r\n"
                    )


@pytest.fixture(params=["http-302", "hls-playlist", "rtsp-302"])
def redirecting_camera(request, internal):
    """A camera URL whose answer sends the client on to the internal service."""
    if request.param == "rtsp-302":
        server = RtspRedirect(f"rtsp://127.0.0.1:{internal.port}/live")
        yield f"rtsp://127.0.0.1:{server.port}/live"
        server.sock.close()
        return
    answer = _redirect_to(internal) if request.param == "http-302" else _playlist_to(internal)
    server = _http_camera(answer)
    yield f"http://127.0.0.1:{server.server_address[1]}/video"
    server.shutdown()
    server.server_close()


def test_the_camera_test_follows_no_redirect_or_playlist(
    login, users, internal, redirecting_camera, settings
):
    settings.LFR_CAMERA_TEST_SECONDS = 2
    body = login(users.admin).post(API, {"stream_url": redirecting_camera}).json()
    assert not body["ok"]
    assert internal.connections() == []


def test_a_stream_worker_follows_no_redirect_or_playlist(
    stream_deployment, internal, redirecting_camera
):
    deployment = stream_deployment(rows=watchlist_rows("obama.jpg"), stream_url=redirecting_camera)
    lease = StreamLease.objects.create(deployment=deployment, camera=deployment.cameras.get())
    streams.stream_slice_run(lease_id=lease.pk, holder="w/1/a", seconds=2.0)
    assert internal.connections() == []
    lease.refresh_from_db()
    assert not lease.connected


def test_a_playlist_file_in_the_camera_folder_is_not_followed(internal, tmp_path):
    (tmp_path / "clip.mp4").write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
        f"#EXTINF:2.0,\nhttp://127.0.0.1:{internal.port}/segment0.ts\n#EXT-X-ENDLIST\n"
    )
    with pytest.raises(SourceError):
        open_source("clip.mp4", file_root=tmp_path)
    assert internal.connections() == []


def test_the_connection_goes_to_the_checked_address_under_the_cameras_name(monkeypatch, tmp_path):
    """Pinned: FFmpeg never resolves the name (a second answer from DNS could differ); it
    reaches the address the guard checked, and the camera still sees its own Host."""
    frame = cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))[1].tobytes()
    hosts = []

    def answer(handler):
        hosts.append(handler.headers["Host"])
        handler.send_response(200)
        handler.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        handler.end_headers()
        try:
            for _ in range(200):
                handler.wfile.write(
                    b"--frame\r\nContent-Type: image/jpeg\r\n"
                    + f"Content-Length: {len(frame)}\r\n\r\n".encode()
                    + frame
                    + b"\r\n"
                )
        except OSError:
            pass

    server = _http_camera(answer)
    port = server.server_address[1]
    real = socket.getaddrinfo
    looked_up = []

    def only_here(host, *args, **kwargs):  # the name exists for the guard alone
        if host == "cam-7.camera.example.org":
            looked_up.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", only_here)
    try:
        with open_source(
            f"http://cam-7.camera.example.org:{port}/video.mjpg",
            file_root=tmp_path / "no-files-here",  # an HTTP camera reads no file
            policy=Policy(allow_loopback=True),  # the camera server is on this host
        ) as source:
            assert source.read() is not None
    finally:
        server.shutdown()
        server.server_close()
    assert looked_up == ["cam-7.camera.example.org"]  # resolved once, by the guard
    assert hosts and set(hosts) == {f"cam-7.camera.example.org:{port}"}


def test_the_rtsp_watch_frames_messages_and_cuts_only_a_real_redirect():
    """What the relay reads of an RTSP camera: bodies and interleaved media are skipped by
    their lengths (a redirect-looking payload is data), fed in pieces of any size."""
    from recognition.engine.netguard import _RtspWatch

    sdp = b"v=0\r\nRTSP/1.0 302 Found\r\n"
    media = b"RTSP/1.0 302 Found\r\n\r\n" * 3
    stream = (
        b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: %d\r\n\r\n" % len(sdp)
        + sdp
        + b"RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n"
        + b"$\x00"
        + len(media).to_bytes(2, "big")
        + media
    )
    for size in (1, 7, 4096):
        watch = _RtspWatch()
        pieces = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert [watch.feed(piece) for piece in pieces] == [None] * len(pieces)
        assert watch.feed(b"RTSP/1.0 302 Found\r\nLocation: rtsp://10.0.0.1/\r\n\r\n")
        assert _RtspWatch().feed(b"REDIRECT rtsp://a/ RTSP/1.0\r\nCSeq: 9\r\n\r\n")
