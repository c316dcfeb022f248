"""Every planning and authorisation rule, each refused with a clear message."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from core import access
from core.models import AuditEvent
from deployments import services
from deployments.models import Camera, Deployment, Site

State = Deployment.State


def test_it_creates_a_draft_and_audits_it(deployment_in_state, users):
    d = deployment_in_state()
    assert d.state == State.DRAFT and d.requested_by == users.command
    assert AuditEvent.objects.filter(action="deployment.create", object_id=str(d.pk)).exists()


def test_it_refuses_self_authorisation(deployment_in_state, users, settings):
    # The requester also holds the authorising role: still refused.
    from django.contrib.auth.models import Group

    users.command.groups.add(Group.objects.get(name="authorising_officer"))
    d = deployment_in_state("submitted")
    with pytest.raises(access.Forbidden):
        services.deployment_authorise(deployment=d, by=users.command)
    d.refresh_from_db()
    assert d.state == State.SUBMITTED and d.authorised_by is None


def test_it_refuses_authorisation_by_someone_without_the_role(deployment_in_state, users):
    d = deployment_in_state("submitted")
    with pytest.raises(access.Forbidden):
        services.deployment_authorise(deployment=d, by=users.command2)


def test_it_refuses_an_overlapping_camera(deployment_in_state, next_monday):
    first = deployment_in_state("submitted")
    second = deployment_in_state(starts_at=first.starts_at + timedelta(hours=2))
    with pytest.raises(ValidationError, match="already in deployment .* which overlaps"):
        services.deployment_submit(deployment=second, by=second.requested_by)


def test_it_allows_the_same_camera_back_to_back(deployment_in_state):
    first = deployment_in_state("submitted")
    second = deployment_in_state("submitted", starts_at=first.ends_at)
    assert second.state == State.SUBMITTED


def test_it_allows_overlap_on_other_cameras(deployment_in_state, dep_site):
    north, south = dep_site.cameras.order_by("name")
    deployment_in_state("submitted", cameras=[north])
    other = deployment_in_state("submitted", cameras=[south])
    assert other.state == State.SUBMITTED


def test_it_refuses_the_eleventh_deployment_of_a_week(deployment_in_state, next_monday, settings):
    assert settings.LFR_WEEKLY_CAPACITY == 10
    for day in range(10):
        # Spread over the week's days and hours so no camera clashes.
        deployment_in_state("submitted", starts_at=next_monday + timedelta(days=day % 7, hours=day))
    eleventh = deployment_in_state(starts_at=next_monday + timedelta(days=6, hours=20))
    with pytest.raises(ValidationError, match="is full: 10 of 10"):
        services.deployment_submit(deployment=eleventh, by=eleventh.requested_by)


def test_it_frees_capacity_when_a_deployment_is_cancelled(
    deployment_in_state, next_monday, settings
):
    settings.LFR_WEEKLY_CAPACITY = 1
    first = deployment_in_state("submitted")
    services.deployment_cancel(deployment=first, by=first.requested_by, reason="intel changed")
    second = deployment_in_state("submitted", starts_at=next_monday + timedelta(days=1, hours=9))
    assert second.state == State.SUBMITTED


def test_it_refuses_a_looser_threshold_than_the_maximum(plan, users, settings):
    values = plan(threshold=settings.LFR_THRESHOLD_MAX + 0.01)
    with pytest.raises(ValidationError, match="looser than the permitted maximum"):
        services.deployment_create(by=users.command, cameras=values.pop("cameras"), **values)


def test_it_accepts_a_threshold_at_the_maximum(deployment_in_state, settings):
    d = deployment_in_state(threshold=settings.LFR_THRESHOLD_MAX)
    assert d.threshold == settings.LFR_THRESHOLD_MAX


def test_it_refuses_end_before_start(plan, users):
    values = plan()
    values["ends_at"] = values["starts_at"] - timedelta(minutes=1)
    with pytest.raises(ValidationError, match="start must be before the end"):
        services.deployment_create(by=users.command, cameras=values.pop("cameras"), **values)


def test_it_refuses_a_deployment_longer_than_the_maximum(plan, users, settings):
    values = plan()
    values["ends_at"] = values["starts_at"] + timedelta(hours=settings.LFR_MAX_DEPLOYMENT_HOURS + 1)
    with pytest.raises(ValidationError, match="at most 12 hours"):
        services.deployment_create(by=users.command, cameras=values.pop("cameras"), **values)


def test_it_refuses_a_catch_all_category(plan, users):
    values = plan(watchlist_categories=["other"])
    with pytest.raises(ValidationError, match="Unknown watchlist categories: other"):
        services.deployment_create(by=users.command, cameras=values.pop("cameras"), **values)


def test_it_refuses_a_camera_from_another_site(plan, users):
    elsewhere = Site.objects.create(name="Elsewhere")
    cam = Camera.objects.create(name="cam-x", stream_url="rtsp://h/x", site=elsewhere)
    values = plan(cameras=[cam])
    with pytest.raises(ValidationError, match="is not at Oxford Circus"):
        services.deployment_create(by=users.command, cameras=values.pop("cameras"), **values)


def test_it_refuses_no_notice_without_a_reason(plan, users):
    values = plan(public_notice=False)
    with pytest.raises(ValidationError, match="without advance public notice needs"):
        services.deployment_create(by=users.command, cameras=values.pop("cameras"), **values)


def test_it_refuses_planning_by_non_command_staff(plan, users):
    values = plan()
    with pytest.raises(access.Forbidden):
        services.deployment_create(by=users.authoriser, cameras=values.pop("cameras"), **values)


def test_edit_of_an_authorised_deployment_returns_it_to_submitted(deployment_in_state, users):
    d = deployment_in_state("authorised")
    assert d.watchlist is not None
    d = services.deployment_update(
        deployment=d,
        by=users.command,
        cameras=list(d.cameras.all()),
        threshold=0.45,
    )
    assert d.state == State.SUBMITTED
    assert d.authorised_by is None and d.authorised_at is None
    assert not hasattr(Deployment.objects.get(pk=d.pk), "watchlist")
    event = AuditEvent.objects.filter(action="deployment.update", object_id=str(d.pk)).last()
    assert event.details["from_state"] == "authorised" and event.details["to_state"] == "submitted"
    assert event.details["changed"] == ["threshold"]


def test_edit_of_a_live_deployment_is_refused(deployment_in_state, users):
    d = deployment_in_state("live")
    with pytest.raises(ValidationError, match="live deployment cannot be edited"):
        services.deployment_update(deployment=d, by=users.command, cameras=list(d.cameras.all()))


def test_activation_gate_keeps_a_deployment_without_a_dpia_from_going_live(deployment_in_state):
    d = deployment_in_state("authorised", dpia_reference="")
    services.lifecycle_tick(now=d.starts_at + timedelta(seconds=1))
    services.lifecycle_tick(now=d.starts_at + timedelta(seconds=20))
    d.refresh_from_db()
    assert d.state == State.AUTHORISED
    refusals = AuditEvent.objects.filter(
        action="deployment.activation_refused", object_id=str(d.pk)
    )
    assert refusals.count() == 1  # beat retries, the log says it once
    assert refusals.get().details["blockers"] == ["no DPIA reference"]


@pytest.mark.parametrize(
    "field,blocker",
    [
        ("policy_reference", "no appropriate policy document reference"),
        ("equality_reference", "no equality impact assessment reference"),
    ],
)
def test_activation_gate_needs_each_assessment(deployment_in_state, field, blocker):
    d = deployment_in_state("authorised", **{field: ""})
    assert not services.deployment_go_live(deployment=d, now=d.starts_at)
    assert services.activation_blockers(d) == [blocker]


def test_activation_gate_never_starts_an_unauthorised_deployment(deployment_in_state):
    d = deployment_in_state("submitted")
    services.lifecycle_tick(now=d.starts_at + timedelta(seconds=1))
    d.refresh_from_db()
    assert d.state == State.SUBMITTED
    assert not services.deployment_go_live(deployment=d, now=d.starts_at)
    assert services.activation_blockers(d) == ["no authorisation"]


def test_lifecycle_starts_at_start_and_completes_at_end(deployment_in_state):
    d = deployment_in_state("authorised")
    services.lifecycle_tick(now=d.starts_at - timedelta(seconds=1))
    d.refresh_from_db()
    assert d.state == State.AUTHORISED
    services.lifecycle_tick(now=d.starts_at)
    d.refresh_from_db()
    assert d.state == State.LIVE and d.started_at == d.starts_at
    services.lifecycle_tick(now=d.ends_at)
    d.refresh_from_db()
    assert d.state == State.COMPLETED and d.ended_at == d.ends_at
    assert d.record.fields["Total Alerts"] == 0
    actions = list(
        AuditEvent.objects.filter(object_id=str(d.pk), object_type="deployments.deployment")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "deployment.create",
        "deployment.submit",
        "deployment.authorise",
        "deployment.live",
        "deployment.complete",
    ]


def test_command_staff_can_stop_early(deployment_in_state, users):
    d = deployment_in_state("live")
    d = services.deployment_stop(deployment=d, by=users.command2, reason="crowd dispersed")
    assert d.state == State.COMPLETED and d.ended_by == users.command2
    assert "crowd dispersed" in d.end_reason


def test_an_authorised_deployment_whose_end_passes_is_cancelled(deployment_in_state):
    d = deployment_in_state("authorised", dpia_reference="")
    services.lifecycle_tick(now=d.ends_at + timedelta(seconds=1))
    d.refresh_from_db()
    assert d.state == State.CANCELLED
    assert not hasattr(Deployment.objects.get(pk=d.pk), "watchlist")


def test_refusal_needs_a_reason(deployment_in_state, users):
    d = deployment_in_state("submitted")
    with pytest.raises(ValidationError, match="Say why"):
        services.deployment_refuse(deployment=d, by=users.authoriser, reason=" ")
    d = services.deployment_refuse(deployment=d, by=users.authoriser, reason="not necessary")
    assert d.state == State.REFUSED


def test_authorisation_is_refused_if_the_plan_changed_since_it_was_shown(
    deployment_in_state, users
):
    d = deployment_in_state("submitted")
    seen = d.updated_at
    services.deployment_update(
        deployment=d, by=users.command, cameras=list(d.cameras.all()), threshold=0.4
    )
    with pytest.raises(ValidationError, match="changed after you opened it"):
        services.deployment_authorise(deployment=d, by=users.authoriser, seen_updated_at=seen)


def test_urgent_start_needs_urgent_mode(plan, users, settings):
    settings.LFR_URGENT_MODE = False
    values = plan(urgent=True)
    with pytest.raises(ValidationError, match="Urgent starts are not enabled"):
        services.deployment_create(by=users.command, cameras=values.pop("cameras"), **values)


def test_urgent_start_goes_live_then_lapses_and_is_purged(deployment_in_state, settings):
    settings.LFR_URGENT_MODE = True
    d = deployment_in_state("submitted", urgent=True)
    services.lifecycle_tick(now=d.starts_at)
    d.refresh_from_db()
    assert d.state == State.LIVE and d.authorised_at is None
    assert d.watchlist.encodings is not None
    later = d.starts_at + timedelta(hours=settings.LFR_URGENT_AUTHORISE_HOURS, seconds=1)
    services.lifecycle_tick(now=later)
    d.refresh_from_db()
    assert d.state == State.CANCELLED and d.purged_at is not None
    assert d.watchlist.encodings is None
    assert AuditEvent.objects.filter(
        action="deployment.urgent_lapsed", object_id=str(d.pk)
    ).exists()


def test_urgent_lapse_purges_alerts_whose_decision_was_corrected(
    deployment_in_state, users, settings
):
    # A correction points at the decision it corrects (PROTECT): deleting both at once
    # was refused, the tick failed and the unauthorised deployment stayed live.
    from recognition.models import Adjudication
    from tests.factories import make_alert

    settings.LFR_URGENT_MODE = True
    d = deployment_in_state("submitted", urgent=True)
    services.lifecycle_tick(now=d.starts_at)
    first = Adjudication.objects.create(
        alert=make_alert(d),
        by=users.officer,
        is_true_match=True,
        confirmed=True,
        outcome="arrest",
    )
    Adjudication.objects.create(
        alert=first.alert,
        by=users.officer,
        is_true_match=False,
        confirmed=True,
        outcome="no_action",
        corrects=first,
    )
    later = d.starts_at + timedelta(hours=settings.LFR_URGENT_AUTHORISE_HOURS, seconds=1)
    services.lifecycle_tick(now=later)
    d.refresh_from_db()
    assert d.state == State.CANCELLED
    assert not Adjudication.objects.filter(alert__deployment=d).exists()


def test_urgent_start_authorised_in_time_runs_to_its_end(deployment_in_state, users, settings):
    settings.LFR_URGENT_MODE = True
    d = deployment_in_state("submitted", urgent=True)
    services.lifecycle_tick(now=d.starts_at)
    services.deployment_authorise(deployment=d, by=users.authoriser, reason="confirmed")
    later = d.starts_at + timedelta(hours=settings.LFR_URGENT_AUTHORISE_HOURS, seconds=1)
    services.lifecycle_tick(now=later)
    d.refresh_from_db()
    assert d.state == State.LIVE and d.authorised_by == users.authoriser


# --- the authoriser decides the threshold: stricter, never looser --------------------------


def test_it_lets_the_authoriser_tighten_the_threshold_and_audits_it(users, deployment_in_state):
    from core.models import AuditEvent
    from deployments import services

    d = deployment_in_state("submitted", threshold=0.5)
    d = services.deployment_authorise(deployment=d, by=users.authoriser, threshold=0.45)
    assert d.state == "authorised" and d.threshold == 0.45
    row = AuditEvent.objects.filter(action="deployment.authorise").get()
    assert row.details["threshold"] == {"planned": 0.5, "authorised": 0.45}


def test_it_refuses_a_looser_threshold_at_authorisation(users, deployment_in_state):
    import pytest as _pytest
    from django.core.exceptions import ValidationError

    from deployments import services

    d = deployment_in_state("submitted", threshold=0.5)
    with _pytest.raises(ValidationError, match="only be made stricter"):
        services.deployment_authorise(deployment=d, by=users.authoriser, threshold=0.55)
    d.refresh_from_db()
    assert d.state == "submitted" and d.threshold == 0.5


def test_the_authorise_page_offers_the_threshold(login, users, deployment_in_state):
    from django.urls import reverse

    d = deployment_in_state("submitted", threshold=0.5)
    client = login(users.authoriser)
    page = client.get(reverse("deployments:authorise", args=[d.pk])).content.decode()
    assert 'name="threshold"' in page and "Planned: 0.5" in page
    client.post(
        reverse("deployments:authorise", args=[d.pk]),
        {"authorise": "1", "seen_updated_at": d.updated_at.isoformat(), "threshold": "0.48"},
    )
    d.refresh_from_db()
    assert d.state == "authorised" and d.threshold == 0.48


def test_it_refuses_to_save_a_draft_whose_window_has_passed(users, plan):
    import pytest as _pytest
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from deployments import services

    values = plan(
        starts_at=timezone.now() - timedelta(hours=5), ends_at=timezone.now() - timedelta(hours=1)
    )
    cameras = values.pop("cameras")
    with _pytest.raises(ValidationError, match="window has already ended"):
        services.deployment_create(by=users.command, cameras=cameras, **values)


def test_the_plan_form_starts_from_the_operating_point_and_explains_it(login, users, settings):
    page = login(users.command).get("/deployments/new/").content.decode()
    assert f'name="threshold" value="{settings.LFR_THRESHOLD_DEFAULT}"' in page
    assert "lower is stricter" in page and 'class="required"' in page
