"""Issue 11: no deployment is live outside its authorised window, whoever asks, and a
deployment that ends early ends everywhere at its actual end."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditEvent
from core.services import audit_record
from deployments import services
from deployments.models import Deployment, DeploymentWatchlist
from oversight import selectors as oversight
from recognition.engine import sources
from recognition.models import StreamLease
from recognition.services import streams
from tests.fixtures_deployments import make_entry
from tests.fixtures_oversight import make_alert
from tests.fixtures_recognition import watchlist_rows

State = Deployment.State


def _refusals(d):
    return AuditEvent.objects.filter(
        action="deployment.activation_refused", object_id=str(d.pk)
    ).count()


# --- 1. the activation window ------------------------------------------------------------


def test_go_live_refuses_an_authorised_deployment_before_its_window(deployment_in_state, users):
    # What the demo seeding did: call the gate directly, 11½ hours early.
    make_entry(users.contributor, users.manager)
    d = deployment_in_state("authorised")
    assert (
        services.deployment_go_live(deployment=d, now=d.starts_at - timedelta(hours=11.5)) is False
    )
    d.refresh_from_db()
    assert d.state == State.AUTHORISED and d.started_at is None


def test_go_live_refuses_after_the_window_ended(deployment_in_state, users):
    d = deployment_in_state("authorised")
    assert services.deployment_go_live(deployment=d, now=d.ends_at) is False
    d.refresh_from_db()
    assert d.state == State.AUTHORISED


def test_go_live_inside_the_window_still_works(deployment_in_state):
    d = deployment_in_state("authorised")
    assert services.deployment_go_live(deployment=d, now=d.starts_at) is True


def test_a_timing_refusal_is_audited_once(deployment_in_state):
    d = deployment_in_state("authorised")
    early = d.starts_at - timedelta(hours=1)
    for minutes in range(3):
        services.deployment_go_live(deployment=d, now=early + timedelta(minutes=minutes))
        services.lifecycle_tick(now=early + timedelta(minutes=minutes))
    assert _refusals(d) == 1
    event = AuditEvent.objects.get(action="deployment.activation_refused", object_id=str(d.pk))
    assert "window" in " ".join(event.details["blockers"])


def test_a_paperwork_refusal_does_not_hide_a_later_timing_refusal(deployment_in_state):
    d = deployment_in_state("authorised", dpia_reference="")
    services.lifecycle_tick(now=d.starts_at)
    Deployment.objects.filter(pk=d.pk).update(dpia_reference="DPIA-late")
    services.deployment_go_live(deployment=d, now=d.starts_at - timedelta(hours=1))
    assert _refusals(d) == 2


@pytest.fixture
def no_camera_opened(monkeypatch):
    opened = []

    def refuse(*args, **kwargs):
        opened.append(args)
        raise AssertionError("the camera was opened")

    monkeypatch.setattr(sources, "open_source", refuse)
    return opened


@pytest.mark.parametrize("shift", [timedelta(hours=3), -timedelta(hours=3)])
def test_a_stream_slice_refuses_a_live_deployment_outside_its_window(
    stream_deployment, no_camera_opened, shift
):
    d = stream_deployment(rows=watchlist_rows("obama.jpg"), stream_url="rtsp://cam/x")
    # A row live outside its window (old data, a clock jump, a restart after the end).
    now = timezone.now()
    Deployment.objects.filter(pk=d.pk).update(
        starts_at=now + shift - timedelta(hours=1), ends_at=now + shift
    )
    lease = StreamLease.objects.create(deployment=d, camera=d.cameras.get())
    outcome = streams.stream_slice_run(lease_id=lease.pk, holder="w/1/a", seconds=5)
    assert (outcome.reason, outcome.successor, outcome.frames) == ("outside window", False, 0)
    assert no_camera_opened == []


def test_oversight_flags_a_deployment_that_was_live_outside_its_window(
    deployment_in_state, users, settings
):
    d = deployment_in_state("authorised")
    # The audit row the old gate wrote when the demo forced it live early, and an alert
    # raised before the window.
    audit_record(action="deployment.live", obj=d, details={"to_state": "live"})
    early = d.starts_at - timedelta(hours=2)
    Deployment.objects.filter(pk=d.pk).update(state=State.LIVE, started_at=timezone.now())
    make_alert(d, at=early)
    make_alert(d, at=d.starts_at + timedelta(minutes=5))  # inside: not counted
    flags = oversight.audit_flags(since=timezone.now() - timedelta(days=1), until=d.ends_at)
    [flag] = flags["live_outside_window"]
    assert flag["deployment"].reference == d.reference
    assert flag["went_live_at"] is not None and flag["went_live_at"] < d.starts_at
    assert flag["alerts_outside"] == 1
    assert flags["total"] >= 1


def test_oversight_does_not_flag_a_deployment_live_inside_its_window(deployment_in_state):
    # The audit's own clock is the real one: a window around now.
    start = timezone.now() - timedelta(minutes=10)
    d = deployment_in_state("live", starts_at=start, ends_at=start + timedelta(hours=2))
    make_alert(d, at=d.starts_at + timedelta(minutes=5))
    flags = oversight.audit_flags(since=start - timedelta(days=1), until=d.ends_at)
    assert flags["live_outside_window"] == []


# --- 2. the actual end ---------------------------------------------------------------------


def _stop_early(deployment_in_state, users, after=timedelta(hours=1)):
    d = deployment_in_state("live")
    services.deployment_complete(
        deployment=d, by=users.command, reason="stopped early: test", now=d.starts_at + after
    )
    d.refresh_from_db()
    return d


def test_a_stopped_deployment_frees_its_camera_at_once(deployment_in_state, users):
    d = _stop_early(deployment_in_state, users)
    assert d.ended_at == d.starts_at + timedelta(hours=1)
    # A new plan on the same cameras from the actual end to the old planned end.
    again = deployment_in_state("draft", starts_at=d.ended_at, ends_at=d.ends_at)
    services.deployment_submit(deployment=again, by=users.command)  # not "overlaps"
    again.refresh_from_db()
    assert again.state == State.SUBMITTED


def test_a_stopped_deployment_still_holds_its_camera_while_it_ran(deployment_in_state, users):
    d = _stop_early(deployment_in_state, users)
    clash = deployment_in_state(
        "draft", starts_at=d.starts_at + timedelta(minutes=30), ends_at=d.ends_at
    )
    with pytest.raises(ValidationError, match="overlaps"):
        services.deployment_submit(deployment=clash, by=users.command)


def test_the_snapshot_is_destroyed_at_actual_end_plus_grace(deployment_in_state, users, settings):
    settings.LFR_WATCHLIST_GRACE_HOURS = 24
    make_entry(users.contributor, users.manager)
    d = _stop_early(deployment_in_state, users)
    due = d.ended_at + timedelta(hours=24)
    assert services.watchlist_retention(now=due - timedelta(seconds=1))["destroyed"] == 0
    assert services.watchlist_retention(now=due)["destroyed"] == 1
    assert DeploymentWatchlist.objects.get(deployment=d).encodings is None


def test_the_retention_page_shows_destruction_at_actual_end_plus_grace(
    deployment_in_state, users, settings
):
    settings.LFR_WATCHLIST_GRACE_HOURS = 24
    make_entry(users.contributor, users.manager)
    d = _stop_early(deployment_in_state, users)
    [row] = [r for r in oversight.retention()["snapshot_due"] if r["deployment"].pk == d.pk]
    assert row["due"] == d.ended_at + timedelta(hours=24)


def _migration():
    import importlib

    return importlib.import_module("deployments.migrations.0004_actual_end_fix")


def test_the_data_migration_takes_an_early_stop_from_the_audit(deployment_in_state, users):
    from django.apps import apps

    start = timezone.now() - timedelta(hours=2)
    d = deployment_in_state("live", starts_at=start, ends_at=start + timedelta(hours=4))
    services.deployment_stop(deployment=d, by=users.command, reason="test")
    stopped = AuditEvent.objects.get(action="deployment.stop", object_id=str(d.pk)).at
    # An old row that recorded the planned end as its end.
    Deployment.objects.filter(pk=d.pk).update(ended_at=d.ends_at)
    _migration().mend(apps, None)
    d.refresh_from_db()
    assert d.ended_at == stopped


def test_the_data_migration_fills_a_missing_end_no_later_than_planned(deployment_in_state):
    from django.apps import apps

    d = deployment_in_state("completed")
    Deployment.objects.filter(pk=d.pk).update(ended_at=None)
    _migration().mend(apps, None)
    d.refresh_from_db()
    # The tick's completion is in the audit; the real clock is before the planned end,
    # so the end is pulled back to the start at most (never before the run began).
    assert d.started_at <= d.ended_at <= d.ends_at
