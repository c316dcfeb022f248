"""Issue 16.7: blue-list testing. Staff volunteers enrolled as test subjects are frozen
into a deployment only when it opts in; their alerts are tests (not acted on, out of the
operational figures); walk-throughs recorded on the deployment give the record a live
true-positive rate with a 95 % Wilson interval. Real database throughout."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from core.stats import wilson_interval
from deployments import selectors, services
from deployments.models import DeploymentWatchlist, Walkthrough
from recognition.selectors import alert_figures, waiting_for
from recognition.services.adjudication import adjudication_record
from recognition.services.alerts import alert_raise
from tests.fixtures_deployments import make_entry
from watchlists.models import WatchlistEntry

CROP = b"\xff\xd8\xff\xe0" + b"\0" * 64


def _volunteer(users):
    entry = make_entry(users.contributor, users.manager)
    WatchlistEntry.objects.filter(pk=entry.pk).update(
        is_test_subject=True, legal_basis="Consent of the volunteer (PC 1234)"
    )
    return entry


@pytest.fixture
def world(users, deployment_in_state, settings):
    """A live deployment that opted in: one wanted entry and one test subject frozen."""
    wanted = make_entry(users.contributor, users.manager)
    volunteer = _volunteer(users)
    # One officer decides: the figures here are about test alerts, not verification.
    settings.LFR_REQUIRE_TWO_PERSON_VERIFICATION = False
    d = deployment_in_state("live", include_test_subjects=True, verification="one")
    d.officers.add(users.officer)
    return d, wanted, volunteer


def _raise(d, entry, *, at, camera=None):
    wl = DeploymentWatchlist.objects.get(deployment=d)
    return alert_raise(
        deployment=d,
        camera=camera or d.cameras.order_by("pk").first(),
        row_label=wl.entry_ids.index(entry.pk),
        distance=0.3,
        crop_jpeg=CROP,
        track_id=f"t-{entry.pk}-{at.timestamp()}",
        frame_at=at,
    )


def _walk(d, by, entry, start, minutes=5, camera=None):
    return services.walkthrough_record(
        deployment=d,
        by=by,
        entry_id=entry.pk,
        camera=camera,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
    )


# --- the frozen watchlist ------------------------------------------------------------------


def test_it_freezes_test_subjects_only_when_the_deployment_opts_in(users, deployment_in_state):
    wanted = make_entry(users.contributor, users.manager)
    volunteer = _volunteer(users)
    plain = deployment_in_state("authorised")
    opted = deployment_in_state(
        "authorised", include_test_subjects=True, starts_at=plain.ends_at + timedelta(hours=1)
    )
    assert DeploymentWatchlist.objects.get(deployment=plain).entry_ids == [wanted.pk]
    wl = DeploymentWatchlist.objects.get(deployment=opted)
    assert wl.entry_ids == [wanted.pk, volunteer.pk] and wl.test_entry_ids == [volunteer.pk]
    # Outside the operational counts: the published "Watchlist Size" is the real list's.
    assert wl.entry_count == 1 and wl.size_by_category == {"wanted": 1}


def test_it_keeps_test_subjects_out_of_the_size_shown_for_authorisation(
    users, login, deployment_in_state
):
    make_entry(users.contributor, users.manager)
    _volunteer(users)
    d = deployment_in_state("submitted", include_test_subjects=True)
    html = login(users.authoriser).get(f"/deployments/{d.pk}/authorise/").content.decode()
    assert 'data-testid="watchlist-total">1<' in html
    assert 'data-testid="authorise-test-subjects">Blue-list testing: 1 test subjects' in html


# --- alerts ----------------------------------------------------------------------------------


def test_it_marks_a_test_subjects_alert_as_a_test(world):
    d, wanted, volunteer = world
    at = d.started_at + timedelta(minutes=10)
    assert _raise(d, volunteer, at=at).is_test is True
    assert _raise(d, wanted, at=at).is_test is False
    event = AuditEvent.objects.filter(action="alert.raised").order_by("pk").first()
    assert event.details["test"] is True


def test_it_leaves_test_alerts_out_of_the_operational_figures(users, world):
    d, wanted, volunteer = world
    at = d.started_at + timedelta(minutes=10)
    _raise(d, volunteer, at=at)
    real = _raise(d, wanted, at=at)
    adjudication_record(
        alert=real, by=users.officer, is_true_match=False, confirmed=True, outcome="no_action"
    )
    figures = alert_figures(d)
    assert figures["total"] == 1 and figures["false_confirmed"] == 1
    assert figures["unadjudicated"] == 0  # the test alert is not "waiting"
    assert sum(w.count for w in waiting_for(users.officer)) == 0
    fields = selectors.record_fields(d)
    assert fields["Total Alerts"] == 1 and fields["False Alert Rate"] == "100.00% of 1 adjudicated"


def test_it_refuses_a_decision_on_a_test_alert(users, world):
    d, _wanted, volunteer = world
    alert = _raise(d, volunteer, at=d.started_at + timedelta(minutes=10))
    with pytest.raises(ValidationError, match="blue-list test alert"):
        adjudication_record(
            alert=alert, by=users.officer, is_true_match=True, confirmed=True, outcome="arrest"
        )
    assert not alert.adjudications.exists()


def test_it_refuses_a_verification_of_a_test_alert(users, world):
    from recognition.services.verification import verification_record

    d, _wanted, volunteer = world
    d.verification = "two"
    d.save(update_fields=["verification"])
    alert = _raise(d, volunteer, at=d.started_at + timedelta(minutes=10))
    with pytest.raises(ValidationError, match="blue-list test alert"):
        verification_record(alert=alert, by=users.officer, is_true_match=True)


def test_it_says_test_on_the_console_api(users, login, world):
    d, _wanted, volunteer = world
    _raise(d, volunteer, at=d.started_at + timedelta(minutes=10))
    r = login(users.officer).get(f"/api/v1/recognition/deployments/{d.pk}/alerts/?after_seq=0")
    assert r.status_code == 200, r.content
    assert [a["is_test"] for a in r.json()["results"]] == [True]


# --- walk-throughs and the live true-positive rate -----------------------------------------


def test_it_computes_the_live_true_positive_rate_from_walkthroughs(users, world):
    d, _wanted, volunteer = world
    north, south = d.cameras.order_by("pk")
    t0 = d.started_at + timedelta(minutes=10)
    # Walk 1: seen on north within its window. Walk 2: seen, but on north while the walk
    # named south. Walk 3: seen only after its window closed. Walk 4: seen on any camera.
    _raise(d, volunteer, at=t0 + timedelta(minutes=2))
    _raise(d, volunteer, at=t0 + timedelta(minutes=62))
    _raise(d, volunteer, at=t0 + timedelta(minutes=125))
    _walk(d, users.command, volunteer, t0, camera=north)
    _walk(d, users.officer, volunteer, t0 + timedelta(minutes=60), camera=south)
    _walk(d, users.command, volunteer, t0 + timedelta(minutes=90))
    _walk(d, users.command, volunteer, t0 + timedelta(minutes=122))
    rows = selectors.walkthroughs(d)
    assert [r["detected_by"] is not None for r in rows] == [True, False, False, True]
    low, high = wilson_interval(2, 4)
    overall = {
        "walks": 4,
        "detected": 2,
        "tpr": 0.5,
        "ci_low": round(low, 4),
        "ci_high": round(high, 4),
    }
    # No walker's group recorded: one row, the same figures (tests/test_blue_list_recall.py).
    assert selectors.blue_list(d) == {**overall, "by_group": [{"group": "Not recorded", **overall}]}
    d.refresh_from_db()
    services.deployment_stop(deployment=d, by=users.command, reason="Test over")
    record = services.record_compute(deployment=d)
    assert record.blue_list["detected"] == 2 and record.fields["Total Alerts"] == 0
    row = selectors.published_row(record)
    assert row["Live True Positive Rate"] == (
        "2 of 4 walk-throughs detected (50.0 %; 95 % CI 15.0-85.0 %)"
    )


def test_it_publishes_not_measured_without_walkthroughs(users, deployment_in_state):
    d = deployment_in_state("completed")
    row = selectors.published_row(services.record_compute(deployment=d))
    assert row["Live True Positive Rate"] == "not measured (no blue-list walk-throughs)"


def test_it_audits_each_walkthrough(users, world):
    d, _wanted, volunteer = world
    walk = _walk(d, users.command, volunteer, d.started_at + timedelta(minutes=5))
    event = AuditEvent.objects.get(action="deployment.walkthrough_recorded")
    assert event.actor_id == users.command.pk and event.details["walkthrough"] == walk.pk
    assert walk.subject_reference == volunteer.subject.reference


@pytest.mark.parametrize(
    "change, message",
    [
        ({"entry": "wanted"}, "not on this deployment's frozen watchlist"),
        ({"minutes": 45}, "at most 30 minutes"),
        ({"minutes": -1}, "end after it starts"),
        ({"before_live": True}, "within the time the deployment was live"),
    ],
)
def test_it_refuses_a_walkthrough_that_cannot_be_scored(users, world, change, message):
    d, wanted, volunteer = world
    entry = wanted if change.get("entry") else volunteer
    start = d.started_at - timedelta(minutes=10) if change.get("before_live") else d.started_at
    with pytest.raises(ValidationError, match=message):
        _walk(d, users.command, entry, start, minutes=change.get("minutes", 5))
    assert not Walkthrough.objects.exists()


def test_it_refuses_walkthroughs_on_a_deployment_that_did_not_opt_in(users, deployment_in_state):
    volunteer = _volunteer(users)
    d = deployment_in_state("live")
    with pytest.raises(ValidationError, match="does not include the blue-list test subjects"):
        _walk(d, users.command, volunteer, d.started_at)


# --- access and the page -------------------------------------------------------------------


def _post(client, d, volunteer):
    start = d.started_at + timedelta(minutes=1)
    return client.post(
        f"/deployments/{d.pk}/walkthroughs/",
        {
            "entry_id": volunteer.pk,
            "camera": "",
            "started_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ended_at": (start + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "note": "PC Blue, north entrance",
        },
    )


@pytest.mark.parametrize("who", ["command", "officer"])
def test_command_and_assigned_officers_record_walkthroughs(users, login, world, who):
    d, _wanted, volunteer = world
    r = _post(login(getattr(users, who)), d, volunteer)
    assert r.status_code == 302 and r["Location"] == f"/deployments/{d.pk}/"
    assert Walkthrough.objects.get().recorded_by == getattr(users, who)


@pytest.mark.parametrize("who", ["oversight", "authoriser"])
def test_readers_may_not_record_walkthroughs(users, login, world, who):
    d, _wanted, volunteer = world
    assert _post(login(getattr(users, who)), d, volunteer).status_code == 403
    assert not Walkthrough.objects.exists()


@pytest.mark.parametrize("who", ["officer2", "nobody", "contributor"])
def test_outsiders_get_404_recording_walkthroughs(users, login, world, who):
    d, _wanted, volunteer = world
    assert _post(login(getattr(users, who)), d, volunteer).status_code == 404
    assert not Walkthrough.objects.exists()


def test_the_deployment_page_shows_walkthroughs_and_the_rate(users, login, world):
    d, _wanted, volunteer = world
    _raise(d, volunteer, at=d.started_at + timedelta(minutes=2))
    _walk(d, users.command, volunteer, d.started_at + timedelta(minutes=1))
    html = login(users.command).get(f"/deployments/{d.pk}/").content.decode()
    assert 'data-testid="walkthrough" data-detected="yes"' in html
    assert "Live true-positive rate: 1 of 1 walk-throughs detected" in html
    assert 'data-testid="walk-form"' in html
    assert f'<option value="{volunteer.pk}">{volunteer.subject.reference}</option>' in html


def test_it_does_not_count_a_test_alert_as_waiting_for_a_decision(users, world):
    d, wanted, volunteer = world
    at = d.started_at + timedelta(minutes=10)
    _raise(d, volunteer, at=at)
    _raise(d, wanted, at=at)
    assert [w.count for w in waiting_for(users.officer)] == [1]


def test_a_contributor_enrols_a_test_subject_from_the_form(users, login):
    from tests import fixtures_watchlists as fx

    post = fx.form_post(
        subject_reference="BLUE-01",
        legal_basis="Written consent of the volunteer, 2026-11-30",
        is_test_subject="on",
    )
    assert login(users.contributor).post("/watchlists/submit/", post).status_code == 302
    entry = WatchlistEntry.objects.get()
    assert entry.is_test_subject and entry.state == "pending"  # two-person rule still holds
    assert AuditEvent.objects.get(action="watchlist.entry_submit").details["test_subject"]
    html = login(users.manager).get(f"/watchlists/entries/{entry.pk}/").content.decode()
    assert 'data-testid="test-subject">blue-list test subject' in html
