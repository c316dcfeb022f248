"""Camera sources: streams, or files that stay inside LFR_CAMERA_FILE_ROOT."""

import os

import pytest
from django.core.exceptions import ValidationError

from deployments import services
from deployments.models import Camera
from recognition.engine.sources import SourceError, open_source


@pytest.fixture
def root(tmp_path, settings):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "demo.mp4").write_bytes(b"not really a video")
    settings.LFR_CAMERA_FILE_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize(
    "url", ["rtsp://10.1.1.1:554/stream1", "http://cam.local/video.mjpg", "https://c.example/m"]
)
def test_it_accepts_stream_urls(url, root):
    assert services.camera_validate_stream_url(url) == url


def test_it_accepts_a_file_inside_the_root(root):
    assert services.camera_validate_stream_url("clips/demo.mp4") == "clips/demo.mp4"
    absolute = str(root / "clips" / "demo.mp4")
    assert services.camera_validate_stream_url(absolute) == absolute


@pytest.mark.parametrize(
    "url,message",
    [
        ("ftp://h/x", "Unsupported source scheme 'ftp'"),
        ("file:///etc/passwd", "outside the allowed camera file folder"),
        ("../secret.mp4", "outside the allowed camera file folder"),
        ("clips/../clips/demo.mp4", "outside the allowed camera file folder"),
        ("/etc/passwd", "outside the allowed camera file folder"),
        ("clips/missing.mp4", "does not exist in the camera file folder"),
        ("rtsp://", "has no host name"),
        ("  ", "is required"),
    ],
)
def test_it_refuses_bad_sources_with_a_clear_message(url, message, root):
    with pytest.raises(ValidationError, match=message):
        services.camera_validate_stream_url(url)


def test_it_refuses_a_symlink_that_points_out_of_the_root(root, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.mp4"
    outside.write_bytes(b"x")
    os.symlink(outside, root / "clips" / "link.mp4")
    with pytest.raises(ValidationError, match="outside the allowed camera file folder"):
        services.camera_validate_stream_url("clips/link.mp4")


def test_the_worker_source_is_rechecked_at_open(root, dep_site, users, tmp_path_factory):
    camera = services.camera_create(
        by=users.admin, name="file-cam", stream_url="clips/demo.mp4", site=dep_site, loop=True
    )
    # Swapped for a link out of the folder after registration: refused when the worker
    # opens it (streams calls open_source, which applies the same check_source rule).
    outside = tmp_path_factory.mktemp("outside2") / "x.mp4"
    outside.write_bytes(b"x")
    (root / "clips" / "demo.mp4").unlink()
    os.symlink(outside, root / "clips" / "demo.mp4")
    with pytest.raises(SourceError, match="outside"):
        open_source(Camera.objects.get(pk=camera.pk).stream_url, file_root=root)


def test_camera_registration_and_update_are_audited(root, dep_site, users):
    from core.models import AuditEvent

    camera = services.camera_create(
        by=users.admin, name="c1", stream_url="rtsp://h/1", site=dep_site
    )
    services.camera_update(
        camera=camera,
        by=users.admin,
        name="c1",
        stream_url="rtsp://h/2",
        site=dep_site,
        enabled=False,
        loop=False,
    )
    actions = list(
        AuditEvent.objects.filter(object_id=str(camera.pk), object_type="deployments.camera")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["camera.create", "camera.update"]


def test_a_disabled_camera_cannot_be_planned(plan, users, dep_site):
    cam = dep_site.cameras.first()
    Camera.objects.filter(pk=cam.pk).update(enabled=False)
    values = plan(cameras=[Camera.objects.get(pk=cam.pk)])
    with pytest.raises(ValidationError, match="is disabled"):
        services.deployment_create(by=users.command, cameras=values.pop("cameras"), **values)
