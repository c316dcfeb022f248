"""/health/ reports each live camera and the background tasks, not only a heartbeat."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import WorkerHeartbeat
from recognition.models import StreamLease
from tests.factories import make_deployment

pytestmark = pytest.mark.django_db


def _plumbing_fine(now):
    """A worker beat just now and every beat job ran just now: only cameras can be wrong."""
    from django.conf import settings

    from core import models

    WorkerHeartbeat.objects.create(hostname="default@test", seen_at=now)
    TaskRun = getattr(models, "TaskRun", None)  # absent before the health page knew tasks
    if TaskRun is None:
        return
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        TaskRun.objects.update_or_create(name=entry["task"], defaults={"last_ok_at": now})


def _served(deployment, *, frame_seconds_ago, now, **figures):
    camera = deployment.cameras.get()
    return StreamLease.objects.create(
        deployment=deployment,
        camera=camera,
        holder="streams@test/1/a",
        heartbeat_at=now - timedelta(seconds=1),
        connected=True,
        fps_in=25.0,
        fps_processed=5.0,
        last_frame_at=now - timedelta(seconds=frame_seconds_ago),
        **figures,
    )


def _health(client):
    response = client.get("/health/?format=json")
    return response.status_code, response.json()


def _check(body, name):
    return next(c for c in body["checks"] if c["name"] == name)


def test_it_goes_red_when_a_live_camera_is_blind(login, users):
    now = timezone.now()
    deployment = make_deployment(reference="DEP-BLIND", started_at=now - timedelta(minutes=5))
    _plumbing_fine(now)
    _served(deployment, frame_seconds_ago=40, now=now)
    code, body = _health(login(users.admin))
    assert code == 503 and not body["healthy"]
    cameras = _check(body, "live cameras")
    assert cameras["level"] == "fail" and "blind for 40 s" in cameras["detail"]
    assert body["cameras"][0]["state"] == "blind"


def test_it_shows_the_blind_camera_on_the_page(login, users):
    now = timezone.now()
    deployment = make_deployment(reference="DEP-BLIND2", started_at=now - timedelta(minutes=5))
    _plumbing_fine(now)
    _served(deployment, frame_seconds_ago=40, now=now)
    html = login(users.oversight).get("/health/").content.decode()
    assert "all good" not in html
    assert 'data-status="fail"' in html and 'data-state="blind"' in html
