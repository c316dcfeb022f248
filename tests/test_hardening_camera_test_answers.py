"""Issue 24.6 (cameras): the camera test is no port scanner (one answer, at one time, for
every failure, and a few tests a minute), and the other clouds' metadata addresses and
look-alike spellings of a host are refused when a camera is saved."""

import socket
import threading
import time

import pytest

from core.models import AuditEvent
from deployments.models import Camera
from deployments.services.camera_test import FAILED
from tests.figures import check_doc, write_figure
from tests.fixtures_recognition import HAMILTON_CLIP

API = "/api/v1/deployments/cameras/test/"
PAGE = "/deployments/cameras/test/"
CAMERAS = "/api/v1/deployments/cameras/"


def _closed() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/video"


@pytest.fixture
def chatty():
    """An open port that answers with something else than a camera (an SSH-like banner)."""
    sock = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/video"
    sock.close()


@pytest.fixture
def silent():
    sock = socket.create_server(("127.0.0.1", 0))
    yield f"rtsp://127.0.0.1:{sock.getsockname()[1]}/live"
    sock.close()


def test_it_answers_one_message_at_one_time_for_every_failure(
    login, users, settings, chatty, silent, tmp_path
):
    settings.LFR_CAMERA_TEST_SECONDS = 2
    settings.LFR_CAMERA_FILE_ROOT = tmp_path
    (tmp_path / "notes.mp4").write_text("not a video")
    admin = login(users.admin)
    answers = []
    for url in (_closed(), chatty, silent, "notes.mp4"):
        started = time.monotonic()
        body = admin.post(API, {"stream_url": url}).json()
        answers.append((body["ok"], body["error"], body["seconds"]))
        assert time.monotonic() - started >= 2  # a closed port answers no sooner
    assert set(answers) == {(False, FAILED, 2.0)}
    line = (
        f"camera test: {len(answers)} kinds of failure (closed port, another service, "
        f"silence, not video): {len(set(answers))} answer, at the deadline"
    )
    write_figure("camera_test_answers", {"line": line})
    check_doc(line)
    # The audit row keeps the cause for whoever investigates.
    causes = [e.details["cause"] for e in AuditEvent.objects.filter(action="camera.test")]
    assert any("unreachable" in cause for cause in causes)


def test_it_still_says_why_a_url_is_not_allowed(login, users):
    body = login(users.admin).post(API, {"stream_url": "http://169.254.169.254/"}).json()
    assert not body["ok"] and "not use this URL" in body["error"]


def test_it_rate_limits_camera_tests(login, users, settings):
    settings.LFR_CAMERA_TESTS_PER_MINUTE = 2
    admin = login(users.admin)
    for _ in range(2):
        assert admin.post(API, {"stream_url": HAMILTON_CLIP}).json()["ok"]
    response = admin.post(API, {"stream_url": HAMILTON_CLIP})
    assert response.status_code == 429, response.content
    assert admin.post(PAGE, {"stream_url": HAMILTON_CLIP}).status_code == 429
    assert AuditEvent.objects.filter(action="camera.test", outcome="allowed").count() == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud
        "http://[fd00:ec2::254]/latest/meta-data/",  # AWS over IPv6
        "http://192.0.0.192/",  # Oracle Cloud
        "http://168.63.129.16/",  # Azure's wire server
        "http://１６９.２５４.１６９.２５４/",  # full-width digits
        "http://169。254。169。254/",  # ideographic full stops
        "http://169．254．169．254/",
        "http://ｌｏｃａｌｈｏｓｔ:6379/",
        "rtsp://cam\u200b.example.org/live",  # a zero-width space
    ],
)
def test_it_refuses_other_metadata_addresses_and_look_alike_hosts_at_save(
    login, users, dep_site, url, settings
):
    settings.LFR_CAMERA_ALLOW_LOOPBACK = False
    body = {"name": "cam-x", "stream_url": url, "site": dep_site.pk}
    response = login(users.admin).post(CAMERAS + "create/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "Cameras may not use this URL" in str(response.json())
    assert not Camera.objects.filter(name="cam-x").exists()
