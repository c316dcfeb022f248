"""Issue 14.2: camera URLs may not reach loopback, metadata or other internal addresses,
in any spelling, neither when saved (page and API: a clear 400) nor when a worker
connects (resolved addresses checked); a failed connection does not say why."""

import socket

import pytest

from deployments.models import Camera
from deployments.services.cameras import camera_policy
from recognition.engine import netguard
from recognition.engine.sources import SourceError, open_source
from tests.helpers import faces

API = "/api/v1/deployments/cameras/"
ROOT = faces("examples", "short_hamilton_clip.mp4").parent

HOSTILE = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[fe80::1]/",
    "http://0xA9FEA9FE/",
    "http://2852039166/",
    "http://0251.0376.0251.0376/",
    "http://169.254.43518/",
    "http://127.0.0.1:6379/",
    "http://127.1:6379/",
    "http://[::1]:6379/",
    "http://localhost:5432/",
    "rtsp://LOCALHOST./cam",
    "http://cam.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://0.0.0.0:8000/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://169.254.169.254@example.org/",
    "http://169.254.169.254:80@example.org/",
    "http://localhost@example.org/",
    "http://example.org\\@169.254.169.254/",
    "http://a@b@169.254.169.254/",
]
FINE = [
    "rtsp://viewer:hunter2@10.0.0.9:554/stream1",
    "rtsp://172.16.4.2/live",
    "http://192.168.1.20/mjpg/video.mjpg",
    "rtsps://cam-7.camera.example.org:322/main",
    "http://[2001:db8::10]/",
]


@pytest.fixture(autouse=True)
def _no_loopback(monkeypatch, settings):
    monkeypatch.delenv("LFR_CAMERA_ALLOW_LOOPBACK", raising=False)
    settings.LFR_CAMERA_ALLOW_LOOPBACK = False
    settings.LFR_CAMERA_ALLOWED_NETWORKS = []


@pytest.mark.parametrize("url", HOSTILE)
def test_it_refuses_internal_addresses_through_the_api(login, users, dep_site, url):
    body = {"name": "cam-x", "stream_url": url, "site": dep_site.pk}
    response = login(users.admin).post(API + "create/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "Cameras may not use this URL" in str(response.json())
    assert not Camera.objects.filter(name="cam-x").exists()


@pytest.mark.parametrize("url", HOSTILE[:8])
def test_it_refuses_internal_addresses_on_the_page(login, users, dep_site, url):
    body = {
        "camera-name": "cam-x",
        "camera-site": dep_site.pk,
        "camera-stream_url": url,
        "camera-enabled": "on",
    }
    response = login(users.admin).post("/deployments/cameras/", body)
    assert response.status_code == 400
    assert b"Cameras may not use this URL" in response.content
    assert not Camera.objects.filter(name="cam-x").exists()


@pytest.mark.parametrize("url", FINE)
def test_it_keeps_private_camera_networks_allowed(login, users, dep_site, url):
    body = {"name": "cam-ok", "stream_url": url, "site": dep_site.pk}
    response = login(users.admin).post(API + "create/", body, content_type="application/json")
    assert response.status_code == 201, response.content


def test_it_narrows_to_the_configured_networks(settings):
    settings.LFR_CAMERA_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    netguard.check_url("rtsp://10.20.3.4/live", camera_policy())
    with pytest.raises(netguard.AddressRefused, match="LFR_CAMERA_ALLOWED_NETWORKS"):
        netguard.check_url("rtsp://192.168.1.20/live", camera_policy())


def test_it_allows_loopback_only_when_configured(settings):
    with pytest.raises(netguard.AddressRefused, match="loopback"):
        netguard.check_url("http://127.0.0.1:8554/cam", camera_policy())
    settings.LFR_CAMERA_ALLOW_LOOPBACK = True
    netguard.check_url("http://127.0.0.1:8554/cam", camera_policy())


def test_a_bad_network_setting_stops_start_up():
    with pytest.raises(ValueError, match="LFR_CAMERA_ALLOWED_NETWORKS must be"):
        netguard.policy_from(allowed_networks=["10.0.0.0/8", "intranet"])


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/", "http://0xA9FEA9FE/", "http://localhost:6379/"]
)
def test_a_worker_never_connects_to_an_internal_address(monkeypatch, url):
    connected = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connected.append(a))
    with pytest.raises(SourceError, match="not allowed as a camera"):
        open_source(url, file_root=ROOT)
    assert connected == []


def test_a_name_resolving_to_an_internal_address_is_refused_at_connect(monkeypatch):
    # DNS rebinding: the name was harmless when saved; now it resolves to the metadata IP.
    real = socket.getaddrinfo

    def rebound(host, *args, **kwargs):
        if host == "cam.example.org":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    netguard.check_url("http://cam.example.org/")  # as written, it is fine
    with pytest.raises(SourceError, match="resolves to a link-local address"):
        open_source("http://cam.example.org/", file_root=ROOT)


def test_a_failed_connection_does_not_say_why():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(SourceError) as caught:
            open_source(
                f"rtsp://u:secret@127.0.0.1:{port}/live",
                file_root=ROOT,
                policy=netguard.Policy(allow_loopback=True),
            )
    assert str(caught.value) == f"rtsp://127.0.0.1:{port}/live is unreachable"
