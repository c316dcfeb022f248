"""Probes for load balancers and monitoring: liveness, readiness, Prometheus metrics."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from core import views
from core.models import TaskRun
from recognition.models import StreamWorker
from tests.camera_health_helpers import serve
from tests.factories import make_alert, make_deployment

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"
SAMPLE = re.compile(r"^[a-z_][a-z0-9_]*(\{[^}]*\})? (-?[0-9.e+-]+|NaN)$")


@pytest.fixture
def metrics(settings):
    settings.LFR_METRICS_TOKEN = TOKEN

    def get(token=TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return Client().get("/metrics", headers=headers)

    return get


def test_it_answers_liveness_without_a_session():
    response = Client().get("/health/live/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_it_answers_readiness_without_a_session_and_without_detail():
    response = Client().get("/health/ready/")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"database": "ok", "channel layer": "ok"}}


def test_it_is_not_ready_when_the_database_fails_and_says_no_more(monkeypatch):
    def broken(now):
        raise RuntimeError("could not connect to server at 10.1.2.3 as user lfr")

    assert views.CHECKS[0][0] == "database"
    monkeypatch.setattr(views, "CHECKS", [("database", broken), *views.CHECKS[1:]])
    response = Client().get("/health/ready/")
    assert response.status_code == 503
    checks = {"database": "fail", "channel layer": "ok"}
    assert response.json() == {"ready": False, "checks": checks}
    assert b"10.1.2.3" not in response.content


def test_it_hides_the_metrics_when_no_token_is_set(settings):
    settings.LFR_METRICS_TOKEN = ""
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_it_refuses_the_metrics_without_the_token(metrics):
    assert metrics(token=None).status_code == 401
    assert metrics(token="wrong").status_code == 401


def test_it_refuses_the_metrics_to_a_signed_in_session_without_the_token(metrics, login, users):
    assert login(users.admin).get("/metrics").status_code == 401


def test_it_exports_each_cameras_figures_in_prometheus_text(metrics):
    deployment = make_deployment(reference="DEP-M")
    camera = deployment.cameras.get()
    serve(deployment, now=timezone.now(), frames_dropped=40, latency_p95_ms=380.0)
    make_alert(deployment)
    TaskRun.objects.create(name="recognition.tasks.supervise", last_ok_at=timezone.now())
    StreamWorker.objects.create(name="w1/1/a", serving=1, capacity=4, heartbeat_at=timezone.now())
    response = metrics()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.content.decode()
    labels = f'deployment="DEP-M",camera="{camera.name}"'
    for sample in [
        f"lfr_camera_fps_in{{{labels}}} 25.0",
        f"lfr_camera_fps_processed{{{labels}}} 5.0",
        f"lfr_camera_frames_in_total{{{labels}}} 2500",
        f"lfr_camera_frames_processed_total{{{labels}}} 500",
        f"lfr_camera_frames_dropped_total{{{labels}}} 40",
        f"lfr_camera_latency_p95_seconds{{{labels}}} 0.38",
        f'lfr_camera_state{{{labels},state="live"}} 1',
        'lfr_alerts_total{deployment="DEP-M"} 1',
        'lfr_task_last_success_age_seconds{task="recognition.tasks.supervise"} 0',
        'lfr_task_failures{task="recognition.tasks.supervise"} 0',
        "lfr_stream_workers 1",
    ]:
        assert sample in text.splitlines(), sample
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or SAMPLE.match(line), line


def test_it_escapes_label_values(metrics):
    deployment = make_deployment(reference="DEP-Q")
    camera = deployment.cameras.get()
    camera.name = 'Gate "A"\\B'
    camera.save()
    serve(deployment, now=timezone.now())
    assert 'camera="Gate \\"A\\"\\\\B"' in metrics().content.decode()


def test_its_probes_answer_plain_http_where_everything_else_is_redirected(settings):
    # A load balancer probes each web process directly, without TLS.
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/health/live/").status_code == 200
    assert client.get("/health/ready/").status_code == 200
    assert client.get("/health/").status_code == 301
