"""An administrator tests a camera URL: opened, one frame read, reported; nothing stored."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from core.models import AuditEvent
from deployments.models import Camera
from deployments.services.camera_test import FAILED
from tests.fixtures_recognition import HAMILTON_CLIP

API = "/api/v1/deployments/cameras/test/"
PAGE = "/deployments/cameras/test/"
FRAME = cv2.imencode(".jpg", np.full((240, 320, 3), 90, np.uint8))[1].tobytes()


@pytest.fixture
def mjpeg():
    """A real HTTP MJPEG camera serving 320×240 frames until the client goes."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            try:
                for _ in range(500):
                    self.wfile.write(
                        b"--frame\r\nContent-Type: image/jpeg\r\n"
                        + f"Content-Length: {len(FRAME)}\r\n\r\n".encode()
                        + FRAME
                        + b"\r\n"
                    )
            except OSError:  # the test read its frame and closed the stream
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stream.mjpg"
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent():
    """A port that accepts connections and never says a word (a hung camera)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/video"
    sock.close()


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_it_reads_one_frame_of_a_file_camera_and_reports_its_size(login, users):
    body = login(users.admin).post(API, {"stream_url": HAMILTON_CLIP}).json()
    assert body["ok"] and (body["width"], body["height"]) == (640, 360)
    assert body["fps"] and body["fps"] > 0


def test_it_reads_an_mjpeg_camera(login, users, mjpeg):
    body = login(users.admin).post(API, {"stream_url": mjpeg}).json()
    assert body["ok"] and (body["width"], body["height"]) == (320, 240), body


def test_it_tests_a_registered_camera_by_id(login, users, mjpeg):
    camera = Camera.objects.create(name="door", stream_url=mjpeg, site=_site())
    body = login(users.admin).post(API, {"camera": camera.pk}).json()
    assert body["ok"] and body["width"] == 320
    event = AuditEvent.objects.get(action="camera.test")
    assert event.object_id == str(camera.pk)


def test_it_stores_nothing_but_an_audit_row_without_credentials(login, users, mjpeg):
    cameras = Camera.objects.count()
    url = mjpeg.replace("http://", "http://ops:secret@")
    body = login(users.admin).post(API, {"stream_url": url}).json()
    assert body["ok"] and "secret" not in body["url"]
    assert Camera.objects.count() == cameras
    event = AuditEvent.objects.get(action="camera.test")
    assert event.details["url"] == mjpeg and event.details["ok"] is True
    assert "secret" not in str(event.details) and set(event.details) <= {
        "url",
        "ok",
        "error",
        "width",
        "height",
        "fps",
    }


def test_it_says_an_unreachable_camera_fails_and_audits_why(login, users, settings):
    settings.LFR_CAMERA_TEST_SECONDS = 2
    url = f"rtsp://127.0.0.1:{_closed_port()}/cam"
    body = login(users.admin).post(API, {"stream_url": url}).json()
    assert not body["ok"] and body["error"] == FAILED  # the same for every failure
    details = AuditEvent.objects.get(action="camera.test").details
    assert details["ok"] is False and "unreachable" in details["cause"]


def test_it_gives_up_on_a_silent_camera_at_the_deadline(login, users, silent, settings):
    settings.LFR_CAMERA_TEST_SECONDS = 2
    body = login(users.admin).post(API, {"stream_url": silent}).json()
    assert not body["ok"] and body["error"] == FAILED
    cause = AuditEvent.objects.get(action="camera.test").details["cause"]
    assert cause.endswith("gave no frame within 2 s")


def test_it_refuses_a_file_outside_the_camera_folder(login, users):
    body = login(users.admin).post(API, {"stream_url": "/etc/passwd"}).json()
    assert not body["ok"] and "outside the allowed camera file folder" in body["error"]


def test_it_refuses_a_file_that_is_no_video(login, users, settings, tmp_path):
    settings.LFR_CAMERA_TEST_SECONDS = 2
    settings.LFR_CAMERA_FILE_ROOT = tmp_path
    (tmp_path / "notes.mp4").write_text("not a video")
    body = login(users.admin).post(API, {"stream_url": "notes.mp4"}).json()
    assert not body["ok"] and body["error"] == FAILED
    assert "cannot decode" in AuditEvent.objects.get(action="camera.test").details["cause"]


def test_it_asks_for_a_url(login, users):
    assert login(users.admin).post(API, {}).status_code == 400


def test_the_page_button_answers_in_json(login, users):
    response = login(users.admin).post(PAGE, {"stream_url": HAMILTON_CLIP})
    assert response.status_code == 200 and response.json()["width"] == 640


def test_it_lets_only_administrators_test(login, users):
    # Read-only (sees cameras): 403; outsider: 404. Both audited as denials.
    assert login(users.command).post(API, {"stream_url": HAMILTON_CLIP}).status_code == 403
    assert login(users.officer).post(API, {"stream_url": HAMILTON_CLIP}).status_code == 404
    assert login(users.command).post(PAGE, {"stream_url": HAMILTON_CLIP}).status_code == 403
    outcomes = AuditEvent.objects.filter(action="camera.test").values_list("outcome", flat=True)
    assert list(outcomes) == ["denied"] * 3


@pytest.mark.parametrize(
    "who",
    ["command", "authoriser", "contributor", "manager", "officer", "oversight", "admin", "nobody"],
)
def test_only_administrators_may_test_and_camera_readers_see_health(users, who):
    from core import access

    user = getattr(users, who)
    assert access.can(user, "camera", "test") == (who == "admin")
    assert access.can(user, "camera", "health") == (
        who in {"command", "authoriser", "oversight", "admin"}
    )


def test_it_answers_404_for_an_unknown_camera(login, users):
    assert login(users.admin).post(PAGE, {"camera": "x1"}).status_code == 404
    assert login(users.admin).post(PAGE, {"camera": "999999"}).status_code == 404


def test_the_cameras_page_and_form_show_the_test_button_to_administrators(login, users):
    camera = Camera.objects.create(name="gate", stream_url=HAMILTON_CLIP, site=_site())
    admin = login(users.admin)
    assert 'data-testid="camera-url-test"' in admin.get("/deployments/cameras/").content.decode()
    form = admin.get(f"/deployments/cameras/{camera.pk}/edit/").content.decode()
    assert 'data-field="stream_url"' in form
    page = login(users.command).get("/deployments/cameras/").content.decode()
    assert "data-camera-test" not in page


def _site():
    from deployments.models import Site

    return Site.objects.get_or_create(name="Test site")[0]
