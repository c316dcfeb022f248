"""/health/ reports each live camera and the background tasks, not only a heartbeat."""

import re
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
    assert cameras["level"] == "fail"
    assert re.search(r"DEP-BLIND factory cam [\d.]+ blind for 4\d s", cameras["detail"])
    assert body["cameras"][0]["state"] == "blind"


def test_it_shows_the_blind_camera_on_the_page(login, users):
    now = timezone.now()
    deployment = make_deployment(reference="DEP-BLIND2", started_at=now - timedelta(minutes=5))
    _plumbing_fine(now)
    _served(deployment, frame_seconds_ago=40, now=now)
    html = login(users.oversight).get("/health/").content.decode()
    assert "all good" not in html
    assert 'data-status="fail"' in html and 'data-state="blind"' in html


def test_it_is_all_good_when_cameras_flow_and_every_job_ran(login, users):
    now = timezone.now()
    deployment = make_deployment(started_at=now - timedelta(minutes=5))
    _plumbing_fine(now)
    _served(deployment, frame_seconds_ago=0.5, now=now)
    code, body = _health(login(users.admin))
    assert (code, body["status"]) == (200, "ok"), body["checks"]
    assert body["cameras"][0]["state"] == "live"


def test_it_goes_red_when_a_live_camera_is_unserved(login, users):
    now = timezone.now()
    deployment = make_deployment(started_at=now - timedelta(minutes=5))
    _plumbing_fine(now)
    lease = _served(deployment, frame_seconds_ago=30, now=now)
    StreamLease.objects.filter(pk=lease.pk).update(heartbeat_at=now - timedelta(seconds=30))
    code, body = _health(login(users.admin))
    assert code == 503 and "no stream worker" in _check(body, "live cameras")["detail"]


def test_it_goes_amber_not_red_when_a_camera_is_degraded(login, users):
    now = timezone.now()
    deployment = make_deployment(started_at=now - timedelta(minutes=5))
    _plumbing_fine(now)
    _served(deployment, frame_seconds_ago=0.5, now=now, degraded=True)
    code, body = _health(login(users.admin))
    assert (code, body["status"], body["healthy"]) == (200, "warn", True)
    html = login(users.admin).get("/health/").content.decode()
    assert 'data-status="warn"' in html and "attention needed" in html


def test_it_reports_a_failing_beat_job_not_only_the_heartbeat(login, users):
    from core.task_health import task_run_record

    now = timezone.now()
    _plumbing_fine(now)
    for _ in range(3):
        task_run_record(
            name="recognition.tasks.stream_supervisor", ok=False, error="OperationalError: gone"
        )
    code, body = _health(login(users.admin))
    jobs = _check(body, "beat jobs")
    assert code == 503 and jobs["level"] == "fail"
    assert "stream_supervisor failing (3×): OperationalError: gone" in jobs["detail"]
    assert _check(body, "worker heartbeat")["ok"]  # the heartbeat alone would say all good


def test_it_reports_a_supervisor_that_stopped_running(login, users):
    from core.models import TaskRun

    now = timezone.now()
    _plumbing_fine(now)
    TaskRun.objects.filter(name="recognition.tasks.stream_supervisor").update(
        last_ok_at=now - timedelta(seconds=120)
    )
    code, body = _health(login(users.admin))
    assert code == 503
    detail = _check(body, "beat jobs")["detail"]
    assert re.search(r"stream_supervisor last ran 1[2-9]\d s ago \(every 10 s\)", detail)


def test_it_lists_a_live_cameras_recent_stream_error(login, users):
    now = timezone.now()
    deployment = make_deployment(reference="DEP-ERR", started_at=now - timedelta(minutes=5))
    _plumbing_fine(now)
    _served(
        deployment,
        frame_seconds_ago=0.5,
        now=now,
        reconnects=2,
        last_error="rtsp://cam is unreachable: Connection refused",
        last_error_at=now - timedelta(seconds=30),
    )
    code, body = _health(login(users.admin))
    detail = _check(body, "stream sessions")["detail"]
    assert code == 200 and "DEP-ERR" in detail and "Connection refused" in detail


def test_celery_records_each_tasks_success_and_failure():
    from celery import shared_task

    from core.models import TaskRun
    from core.tasks import worker_heartbeat

    @shared_task(name="tests.camera_health.boom")
    def boom():
        raise RuntimeError("camera folder missing")

    worker_heartbeat.apply()
    boom.apply()
    ok = TaskRun.objects.get(name="core.tasks.worker_heartbeat")
    failed = TaskRun.objects.get(name="tests.camera_health.boom")
    assert ok.last_ok_at is not None and ok.failures == 0
    assert failed.last_failed_at and failed.failures == 1
    assert failed.last_error == "RuntimeError: camera folder missing"


def test_it_shows_jobs_that_have_not_run_yet_amber_not_red(login, users):
    from core.models import TaskRun

    now = timezone.now()
    _plumbing_fine(now)
    TaskRun.objects.filter(name="recognition.tasks.alert_retention").delete()
    TaskRun.objects.filter(name="deployments.tasks.watchlist_retention").update(
        last_ok_at=now - timedelta(hours=2)
    )
    code, body = _health(login(users.admin))
    jobs = _check(body, "beat jobs")
    assert (code, jobs["level"]) == (200, "warn")
    assert "alert_retention has not run yet (every 3600 s)" in jobs["detail"]
    assert "watchlist_retention last ran" in jobs["detail"]


def test_it_notes_a_beat_job_that_failed_lately_but_runs_again(login, users):
    from core.task_health import task_run_record

    now = timezone.now()
    _plumbing_fine(now)
    task_run_record(name="deployments.tasks.lifecycle_tick", ok=False, error="DatabaseError: x")
    task_run_record(name="deployments.tasks.lifecycle_tick", ok=True)
    code, body = _health(login(users.admin))
    jobs = _check(body, "beat jobs")
    assert (code, jobs["level"]) == (200, "warn")
    assert re.search(r"lifecycle_tick failed \d+ s ago: DatabaseError: x", jobs["detail"])
