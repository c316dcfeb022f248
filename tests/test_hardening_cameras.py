"""Issue 14.6 and 14.1: camera credentials stay hidden; moving a camera of an authorised
deployment needs authorising again."""

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from deployments import services
from deployments.models import Camera, DeploymentWatchlist, Site

SECRET_URL = "rtsp://viewer:hunter2@10.0.0.9:554/stream1"
API = "/api/v1/deployments/cameras/"


@pytest.fixture
def secret_camera(dep_site):
    return Camera.objects.create(name="cam-secret", stream_url=SECRET_URL, site=dep_site)


# --- 14.6: who sees the stream URL's credentials --------------------------------------


@pytest.mark.parametrize("role", ["command", "authoriser", "oversight"])
def test_it_hides_camera_credentials_from_non_admins_in_the_api(login, users, secret_camera, role):
    response = login(getattr(users, role)).get(API)
    assert response.status_code == 200
    urls = {c["name"]: c["stream_url"] for c in response.json()["results"]}
    assert urls["cam-secret"] == "rtsp://10.0.0.9:554/stream1"
    assert b"hunter2" not in response.content and b"viewer" not in response.content


@pytest.mark.parametrize("role", ["command", "authoriser", "oversight"])
def test_it_hides_camera_credentials_from_non_admins_on_the_page(login, users, secret_camera, role):
    response = login(getattr(users, role)).get("/deployments/cameras/")
    assert response.status_code == 200
    assert b"rtsp://10.0.0.9:554/stream1" in response.content
    assert b"hunter2" not in response.content


def test_it_shows_the_admin_the_full_url_to_edit(login, users, secret_camera):
    client = login(users.admin)
    urls = {c["name"]: c["stream_url"] for c in client.get(API).json()["results"]}
    assert urls["cam-secret"] == SECRET_URL
    assert SECRET_URL.encode() in client.get("/deployments/cameras/").content


@pytest.mark.parametrize("role", ["officer", "nobody"])
def test_it_still_keeps_cameras_from_others(login, users, secret_camera, role):
    assert login(getattr(users, role)).get(API).status_code in (403, 404)


# --- 14.1: a camera of an authorised deployment -----------------------------------------


def _update(client, camera, **changes):
    body = {
        "name": camera.name,
        "stream_url": camera.stream_url,
        "site": camera.site_id,
        "enabled": camera.enabled,
        "loop": camera.loop,
        **changes,
    }
    return client.post(f"{API}{camera.pk}/update/", body, content_type="application/json")


def test_moving_a_camera_sends_its_authorised_deployment_back_for_authorisation(
    login, users, deployment_in_state
):
    d = deployment_in_state("authorised")
    camera = d.cameras.first()
    old = camera.stream_url
    response = _update(login(users.admin), camera, stream_url="rtsp://u:p@10.9.9.9/elsewhere")
    assert response.status_code == 200, response.content
    d.refresh_from_db()
    assert d.state == "submitted"
    assert d.authorised_at is None and d.authorised_by is None
    assert not DeploymentWatchlist.objects.filter(deployment=d).exists()
    row = AuditEvent.objects.filter(action="camera.update").latest("pk")
    assert row.details["old_stream_url"] == old
    assert row.details["new_stream_url"] == "rtsp://10.9.9.9/elsewhere"
    assert d.reference in str(row.details["reauthorise"])


def test_moving_a_camera_to_another_site_sends_the_deployment_back(
    login, users, deployment_in_state
):
    d = deployment_in_state("authorised")
    elsewhere = Site.objects.create(name="Elsewhere")
    response = _update(login(users.admin), d.cameras.first(), site=elsewhere.pk)
    assert response.status_code == 200, response.content
    d.refresh_from_db()
    assert d.state == "submitted"


def test_renaming_a_camera_leaves_the_authorisation_alone(login, users, deployment_in_state):
    d = deployment_in_state("authorised")
    response = _update(login(users.admin), d.cameras.first(), name="cam-renamed")
    assert response.status_code == 200, response.content
    d.refresh_from_db()
    assert d.state == "authorised"


def test_a_live_deployments_camera_cannot_be_moved(users, deployment_in_state):
    d = deployment_in_state("live")
    camera = d.cameras.first()
    with pytest.raises(ValidationError, match="live"):
        services.camera_update(
            camera=camera,
            by=users.admin,
            name=camera.name,
            stream_url="rtsp://10.9.9.9/elsewhere",
            site=camera.site,
            enabled=True,
            loop=False,
        )
    camera.refresh_from_db()
    d.refresh_from_db()
    assert camera.stream_url != "rtsp://10.9.9.9/elsewhere" and d.state == "live"


def test_moving_a_camera_of_a_submitted_deployment_outdates_the_authorisers_screen(
    login, users, deployment_in_state
):
    d = deployment_in_state("submitted")
    client = login(users.authoriser)
    seen = client.get(f"/api/v1/deployments/{d.pk}/authorisation/").json()["deployment"][
        "updated_at"
    ]
    camera = d.cameras.first()
    services.camera_update(
        camera=camera,
        by=users.admin,
        name=camera.name,
        stream_url="rtsp://10.9.9.9/elsewhere",
        site=camera.site,
        enabled=True,
        loop=False,
    )
    response = client.post(
        f"/api/v1/deployments/{d.pk}/authorise/",
        {"reason": "ok", "seen_updated_at": seen},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "changed after you opened it" in str(response.json())
