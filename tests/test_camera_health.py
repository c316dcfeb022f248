"""A camera's health, read from its stream lease at an injected `now` (no waiting)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.models import Deployment
from recognition import health
from tests.camera_health_helpers import serve
from tests.factories import make_deployment

pytestmark = pytest.mark.django_db


@pytest.fixture
def live():
    now = timezone.now()
    return make_deployment(started_at=now - timedelta(minutes=5)), now


def _state(deployment, now):
    return health.deployment_camera_health(deployment, now=now)[0]


def test_it_reads_a_flowing_camera_as_live(live):
    deployment, now = live
    serve(deployment, now=now, latency_p95_ms=420.0, frames_dropped=3, reconnects=1)
    row = _state(deployment, now)
    assert (row["state"], row["level"]) == ("live", "ok")
    assert (row["fps_in"], row["fps_processed"], row["frames_dropped"]) == (25.0, 5.0, 3)
    assert row["latency_p95_ms"] == 420.0 and row["reconnects"] == 1
    assert row["last_frame_age_s"] == 0.5


def test_it_shows_a_camera_with_no_frame_for_ten_seconds_as_blind(live):
    deployment, now = live
    serve(deployment, now=now, frame_ago=0.5)
    assert _state(deployment, now + timedelta(seconds=9))["state"] == "live"
    row = _state(deployment, now + timedelta(seconds=10.5))
    assert (row["state"], row["level"], row["blind_for_s"]) == ("blind", "fail", 11)
    assert health.camera_banner(row) == f"{row['camera']} blind for 11 s"


def test_it_counts_blindness_from_the_start_when_no_frame_ever_came(live):
    deployment, now = live
    serve(deployment, now=now, frame_ago=None, connected=False, frames_in=0)
    row = _state(deployment, now)
    assert row["state"] == "blind" and row["blind_for_s"] == 300


def test_it_follows_the_blind_setting(live, settings):
    settings.LFR_CAMERA_BLIND_SECONDS = 30
    deployment, now = live
    serve(deployment, now=now, frame_ago=20)
    assert _state(deployment, now)["state"] == "live"
    assert _state(deployment, now + timedelta(seconds=10))["state"] == "blind"


def test_it_calls_a_camera_whose_worker_went_silent_unserved(live):
    deployment, now = live
    serve(deployment, now=now, beat_ago=16, frame_ago=16)
    row = _state(deployment, now)
    assert (row["state"], row["level"]) == ("unserved", "fail") and row["stale"]
    assert row["fps_in"] == 0.0
    assert "no stream worker" in health.camera_banner(row)


def test_it_calls_a_lease_nobody_holds_unserved_after_a_hand_over_grace(live):
    deployment, now = live
    serve(deployment, now=now, holder="", beat_ago=1)
    assert _state(deployment, now)["state"] == "live"  # between two slices
    assert _state(deployment, now + timedelta(seconds=6))["state"] == "unserved"


def test_it_calls_a_live_camera_without_a_lease_unserved_once_the_supervisor_had_time(live):
    deployment, now = live
    assert _state(deployment, deployment.started_at + timedelta(seconds=5))["state"] == (
        "not connected"
    )
    assert _state(deployment, now)["state"] == "unserved"


def test_it_shows_a_lost_source_as_reconnecting_with_its_error(live):
    deployment, now = live
    error_at = now - timedelta(seconds=2)
    serve(
        deployment,
        now=now,
        frame_ago=3,
        connected=False,
        reconnects=4,
        last_error="rtsp://cam/1 is unreachable: Connection refused",
        last_error_at=error_at,
    )
    row = _state(deployment, now)
    assert (row["state"], row["level"], row["reconnects"]) == ("reconnecting", "warn", 4)
    assert row["last_error_at"] == error_at and "Connection refused" in row["why"]


def test_it_shows_a_camera_that_cannot_keep_up_as_degraded(live):
    deployment, now = live
    serve(deployment, now=now, degraded=True, frames_dropped=900)
    assert (_state(deployment, now)["state"], _state(deployment, now)["level"]) == (
        "degraded",
        "warn",
    )


def test_it_tells_the_console_what_share_of_real_time_a_degraded_camera_analyses(live):
    # Issue 27: at 13-26 % of real time analysed, the console showed nothing.
    deployment, now = live
    serve(deployment, now=now, realtime_share=0.41)
    row = _state(deployment, now)
    assert (row["state"], row["realtime_share"]) == ("degraded", 0.41)
    assert health.camera_banner(row) == f"{row['camera']} analysing 41 % of real time"


def test_it_follows_the_degraded_share_setting(live, settings):
    deployment, now = live
    serve(deployment, now=now, realtime_share=0.7)
    assert _state(deployment, now)["state"] == "degraded"  # default: below 80 %
    settings.LFR_CAMERA_DEGRADED_SHARE = 0.5
    row = _state(deployment, now)
    assert row["state"] == "live" and health.camera_banner(row) == ""


def test_it_shows_cameras_of_an_ended_deployment_as_stopped(live):
    deployment, now = live
    serve(deployment, now=now, frame_ago=600, stopped=True)
    Deployment.objects.filter(pk=deployment.pk).update(state=Deployment.State.COMPLETED)
    deployment.refresh_from_db()
    assert (_state(deployment, now)["state"], _state(deployment, now)["level"]) == (
        "stopped",
        "ok",
    )
    assert health.live_camera_health(now=now) == []


# --- where it is shown: camera status, cameras page, API, console ---------------------


def _blind(deployment):
    """A camera whose last frame was 10 s before the request (so at least 10 s by then)."""
    serve(deployment, now=timezone.now(), frame_ago=10)


def _seconds(text):
    return int(re.search(r"blind for (\d+) s", text).group(1))


def test_the_deployments_camera_status_shows_blind(login, users, live):
    deployment, _ = live
    _blind(deployment)
    url = f"/recognition/deployments/{deployment.pk}/cameras/"
    html = login(users.command).get(url).content.decode()
    assert 'data-state="blind"' in html and "no frame for" in html


def test_the_cameras_page_polls_live_health_which_shows_blind(login, users, live):
    deployment, _ = live
    _blind(deployment)
    client = login(users.admin)
    page = client.get("/deployments/cameras/").content.decode()
    assert 'data-url="/recognition/cameras/health/"' in page and "deployments/cameras.js" in page
    fragment = client.get("/recognition/cameras/health/").content.decode()
    assert 'data-state="blind"' in fragment and deployment.reference in fragment


def test_the_api_lists_every_live_cameras_health(login, users, live):
    deployment, _ = live
    _blind(deployment)
    rows = login(users.oversight).get("/api/v1/recognition/cameras/health/").json()["results"]
    (row,) = [r for r in rows if r["deployment_id"] == deployment.pk]
    assert row["state"] == "blind" and _seconds(row["banner"]) >= 10
    assert row["frames_dropped"] == 0 and "latency_p95_ms" in row


def test_the_console_endpoint_gives_the_blind_banner(login, users, live):
    deployment, _ = live
    deployment.officers.add(users.officer)
    _blind(deployment)
    url = f"/api/v1/recognition/deployments/{deployment.pk}/cameras/health/"
    body = login(users.officer).get(url).json()
    assert body["level"] == "fail" and len(body["banners"]) == 1
    assert _seconds(body["banners"][0]) >= 10


def test_the_console_endpoint_gives_the_degraded_banner(login, users, live):
    deployment, _ = live
    deployment.officers.add(users.officer)
    serve(deployment, now=timezone.now(), realtime_share=0.26)
    url = f"/api/v1/recognition/deployments/{deployment.pk}/cameras/health/"
    body = login(users.officer).get(url).json()
    camera = deployment.cameras.get().name
    assert (body["level"], body["banners"]) == ("warn", [f"{camera} analysing 26 % of real time"])
    assert body["cameras"][0]["realtime_share"] == 0.26


def test_the_console_endpoint_is_quiet_while_cameras_are_live(login, users, live):
    deployment, now = live
    deployment.officers.add(users.officer)
    serve(deployment, now=timezone.now())
    url = f"/api/v1/recognition/deployments/{deployment.pk}/cameras/health/"
    body = login(users.officer).get(url).json()
    assert (body["level"], body["banners"]) == ("ok", [])


def test_the_console_endpoint_hides_a_deployment_from_an_unassigned_officer(login, users, live):
    deployment, _ = live
    url = f"/api/v1/recognition/deployments/{deployment.pk}/cameras/health/"
    assert login(users.officer2).get(url).status_code == 404


def test_the_console_includes_the_banner_once(login, users, live):
    deployment, _ = live
    deployment.officers.add(users.officer)
    html = login(users.officer).get(f"/recognition/deployments/{deployment.pk}/console/").content
    html = html.decode()
    assert html.count('<div id="camera-banner"') == 1 and "recognition/camera_banner.js" in html
    assert f"/api/v1/recognition/deployments/{deployment.pk}/cameras/health/" in html


def test_live_health_is_for_those_who_see_cameras(login, users, live):
    assert login(users.command).get("/recognition/cameras/health/").status_code == 200
    assert login(users.officer).get("/recognition/cameras/health/").status_code == 404
    assert login(users.officer).get("/api/v1/recognition/cameras/health/").status_code == 404
