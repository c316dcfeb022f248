"""A real HTTP MJPEG camera that drops its stream: the slice backs off and reconnects."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from recognition.models import StreamLease
from recognition.services import streams
from tests.fixtures_recognition import watchlist_rows

FRAME = cv2.imencode(".jpg", np.full((120, 160, 3), 128, np.uint8))[1].tobytes()


@pytest.fixture
def camera():
    """An MJPEG server whose first connection drops after 10 frames; later ones do not."""
    connections = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            connections.append(self.path)
            frames = 10 if len(connections) == 1 else 10_000
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            try:
                for _ in range(frames):
                    self.wfile.write(
                        b"--frame\r\nContent-Type: image/jpeg\r\n"
                        + f"Content-Length: {len(FRAME)}\r\n\r\n".encode()
                        + FRAME
                        + b"\r\n"
                    )
                    time.sleep(0.04)
            except OSError:  # the slice closed the stream
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/stream.mjpg"
    server.connections = connections
    yield server
    server.shutdown()
    server.server_close()


def test_it_reconnects_to_an_mjpeg_camera_after_it_drops(camera, stream_deployment):
    deployment = stream_deployment(rows=watchlist_rows("obama.jpg"), stream_url=camera.url)
    lease = StreamLease.objects.create(deployment=deployment, camera=deployment.cameras.get())
    outcome = streams.stream_slice_run(lease_id=lease.pk, holder="w/1/a", seconds=3.0)
    lease.refresh_from_db()
    assert (outcome.reason, outcome.successor) == ("slice over", True)
    assert len(camera.connections) >= 2
    assert lease.frames_in > 10
    assert lease.last_error == "" and lease.reconnects >= 1  # released: not connected now
