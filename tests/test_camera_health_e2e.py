"""Camera health in a real browser (Debian's chromium) against the real ASGI app.

The server is daphne alone (no embedded worker or beat), so the stream leases say only
what this test writes: a stand-in for the stream worker beats every second, Camera 1
with fresh frames, Camera 2 without a frame since 40 s before the test began.
"""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from deployments.models import Camera, Site
from recognition.models import StreamLease
from tests.camera_health_helpers import FLOWING
from tests.factories import make_deployment
from tests.fixtures_console import Daphne, browser_password
from tests.fixtures_recognition import HAMILTON_CLIP
from tests.helpers import SCREENSHOTS_DIR, subprocess_env
from tests.test_e2e_console import browser, login  # noqa: F401 (browser is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class StandInWorker(threading.Thread):
    """Writes the leases' heartbeat and frames as a stream worker would, each second."""

    def __init__(self, deployment, cameras):
        super().__init__(daemon=True)
        self.deployment, self.cameras = deployment, cameras
        self.blind = {cameras[1].pk}
        self.share = {}  # camera pk -> share of real time analysed (None: not written)
        self.blind_since = timezone.now() - timedelta(seconds=40)
        self.halt = threading.Event()
        self.beat()

    def beat(self):
        now = timezone.now()
        for camera in self.cameras:
            blind = camera.pk in self.blind
            StreamLease.objects.update_or_create(
                deployment=self.deployment,
                camera=camera,
                defaults={
                    **FLOWING,
                    "heartbeat_at": now,
                    "last_frame_at": self.blind_since if blind else now,
                    "fps_in": 0.0 if blind else 25.0,
                    "fps_processed": 0.0 if blind else 8.3,
                    "frames_dropped": 0 if blind else 1240,
                    "latency_p95_ms": None if blind else 380.0,
                    "reconnects": 3 if blind else 0,
                    "last_error": "rtsp://10.0.0.2/cam2: read timed out" if blind else "",
                    "last_error_at": self.blind_since if blind else None,
                    "realtime_share": self.share.get(camera.pk),
                },
            )

    def run(self):
        try:
            while not self.halt.wait(1.0):
                self.beat()
        finally:
            connection.close()


@pytest.fixture
def world(users):
    site = Site.objects.create(name="Oxford Circus")
    cameras = [
        Camera.objects.create(name=f"Camera {n}", stream_url=HAMILTON_CLIP, site=site)
        for n in (1, 2)
    ]
    deployment = make_deployment(
        reference="DEP-HEALTH", site=site, cameras=cameras, officers=[users.officer]
    )
    browser_password(users.officer, users.admin)
    worker = StandInWorker(deployment, cameras)
    yield deployment, worker
    worker.halt.set()
    worker.join()


@pytest.fixture
def server(tmp_path, world):
    srv = Daphne(subprocess_env(LFR_VAR_DIR=str(tmp_path / "var")), tmp_path / "daphne.log")
    yield srv
    srv.stop()


def test_the_console_says_a_camera_is_blind_and_clears_when_it_sees(world, server, browser):  # noqa: F811
    deployment, worker = world
    worker.start()
    page = login(browser, server, "off")
    page.goto(f"/recognition/deployments/{deployment.pk}/console/")
    line = page.wait_for_selector("[data-testid=camera-banner-line]")
    assert re.fullmatch(r"Camera 2 blind for \d+ s", line.inner_text()), line.inner_text()
    assert page.locator("[data-testid=camera-banner-line]").count() == 1  # Camera 1 is fine
    page.screenshot(path=str(SCREENSHOTS_DIR / "console_camera_blind.png"), full_page=True)

    worker.blind.clear()  # Camera 2 delivers frames again
    page.wait_for_selector("[data-testid=camera-banner-line]", state="detached")


def test_the_console_says_which_camera_is_degraded_and_how_much(world, server, browser):  # noqa: F811
    deployment, worker = world
    worker.blind.clear()
    worker.share[worker.cameras[0].pk] = 0.41  # issue 27: officers were not told
    worker.start()
    page = login(browser, server, "off")
    page.goto(f"/recognition/deployments/{deployment.pk}/console/")
    line = page.locator("[data-testid=camera-banner-line]")
    line.filter(has_text="Camera 1 analysing 41 % of real time").wait_for()
    assert line.count() == 1  # Camera 2 is fine
    assert line.get_attribute("class") == "warn"  # amber: analysed, but not all of it
    page.screenshot(path=str(SCREENSHOTS_DIR / "console_camera_degraded.png"), full_page=True)


def test_the_cameras_page_shows_live_health_and_tests_a_camera(world, server, browser):  # noqa: F811
    deployment, worker = world
    worker.start()
    page = login(browser, server, "adm")
    page.goto("/deployments/cameras/")
    page.wait_for_selector("#camera-health tr[data-state=live]")
    blind = page.locator("#camera-health tr[data-state=blind]")
    assert "Camera 2" in blind.inner_text() and "read timed out" in blind.inner_text()
    assert "1240" in page.locator("#camera-health tr[data-state=live]").inner_text()

    camera = worker.cameras[0]  # no ORM here: Playwright's loop owns this thread now
    page.click(f"[data-testid=camera-test][data-camera='{camera.pk}']")
    result = page.locator(f"#test-{camera.pk}")
    result.filter(has_text="OK: 640×360").wait_for()
    page.screenshot(path=str(SCREENSHOTS_DIR / "cameras_live_health.png"), full_page=True)

    # /health/ is red while a live camera is blind, and names it.
    page.goto("/health/")
    assert page.get_attribute("[data-testid=health-status]", "data-status") == "fail"
    row = page.locator("tr[data-check='live cameras']")
    assert re.search(r"DEP-HEALTH Camera 2 blind for \d+ s", row.inner_text())
    page.screenshot(path=str(SCREENSHOTS_DIR / "health_blind_camera.png"), full_page=True)
