"""`make demo`'s last three steps on a fresh embedded default: migrate, seed, serve."""

import io
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from datetime import timedelta

import pytest
from django.core.management import call_command

from recognition.management.commands import seed_demo_data
from tests.helpers import PYTHON, ROOT

pytestmark = pytest.mark.slow


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_seeds_and_serves_the_login_page_on_the_embedded_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["LFR_VAR_DIR"] = str(tmp_path)
    run = dict(cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], **run).returncode == 0
    seeded = subprocess.run([PYTHON, "manage.py", "seed_demo"], **run)
    assert seeded.returncode == 0, seeded.stderr
    assert re.search(r"officer\s+\S+\s+Officer", seeded.stdout)
    again = subprocess.run([PYTHON, "manage.py", "seed_demo"], **run)
    assert "exist already" in again.stdout  # idempotent, and passwords are not shown twice

    port = _free_port()
    server = subprocess.Popen(
        [PYTHON, "manage.py", "lfr_demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as r:
                    assert r.status == 200 and b"Log in" in r.read()
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "login page not served within 2 minutes"
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


# --- the demo deployment: planned for now, never forced live ----------------------------------


def _seed(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=out)
    return out.getvalue()


def _demo_live(exclude=()):
    from deployments.models import Deployment

    return Deployment.objects.exclude(pk__in=exclude).get(
        state="live", cameras__name=seed_demo_data.CAMERA
    )


def _in_window(d):
    return d.starts_at <= d.started_at < d.ends_at


@pytest.mark.django_db(transaction=False)
def test_a_demo_run_after_a_stop_plans_a_fresh_live_deployment(settings, tmp_path):
    from django.contrib.auth import get_user_model

    from deployments import services

    _seed(settings, tmp_path)
    first = _demo_live()
    assert _in_window(first)
    command = get_user_model().objects.get(username="command")
    for _ in range(2):
        services.deployment_stop(deployment=first, by=command, reason="demo over")
        first.refresh_from_db()
        out = _seed(settings, tmp_path)
        assert "refused" not in out, out
        second = _demo_live(exclude=[first.pk])
        assert _in_window(second) and second.starts_at >= first.ended_at
        assert first.state == "completed"  # the stopped one is kept, with its record
        first = second


@pytest.mark.django_db(transaction=False)
def test_the_demo_never_forces_a_future_deployment_live(settings, tmp_path):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from deployments import services
    from deployments.models import Camera

    _seed(settings, tmp_path)
    User = get_user_model()
    command, authoriser = (User.objects.get(username=n) for n in ("command", "authoriser"))
    services.deployment_stop(deployment=_demo_live(), by=command, reason="demo over")
    camera = Camera.objects.get(name=seed_demo_data.CAMERA)
    # An authorised deployment on the demo camera, 11½ hours from now (the case).
    start = timezone.now() + timedelta(hours=11.5)
    later = services.deployment_create(
        by=command, cameras=[camera], use_case="event_protection", site=camera.site,
        starts_at=start, ends_at=start + timedelta(hours=4), necessity="n",
        proportionality="p", location_rationale="l", watchlist_categories=["wanted"],
        max_watchlist_size=10, dpia_reference="D", policy_reference="P",
        equality_reference="E",
    )  # fmt: skip
    services.deployment_submit(deployment=later, by=command)
    services.deployment_authorise(deployment=later, by=authoriser, reason="ok")
    _seed(settings, tmp_path)
    later.refresh_from_db()
    assert later.state == "authorised" and later.started_at is None
    fresh = _demo_live(exclude=[later.pk])
    assert _in_window(fresh) and fresh.ends_at <= later.starts_at


@pytest.mark.django_db(transaction=False)
def test_the_demo_goes_live_under_the_default_notice_lead(settings, tmp_path):
    # The suite runs with no notice lead; the demo runs with the default 7 days, where an
    # authorisation that starts now must say why no advance notice was given.
    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 7
    out = _seed(settings, tmp_path)
    assert "refused" not in out, out
    assert _in_window(_demo_live())
