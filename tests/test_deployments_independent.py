"""Independent prior authorisation (EU AI Act Art. 5(3)): the gate, the urgent clock, and
a refusal that stops and purges an urgent use, with a receipt."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from core import access
from core.models import AuditEvent
from deployments import services
from deployments.models import DeploymentWatchlist, IndependentAuthorisation
from deployments.services import State
from recognition.models import Alert
from tests.factories import make_alert

COURT = "District Judge (Magistrates' Courts)"


@pytest.fixture
def eu(settings):
    settings.LFR_INDEPENDENT_AUTHORISATION = "always"
    settings.LFR_INDEPENDENT_AUTHORITIES = [COURT, "Data Protection Authority"]
    return settings


def decide(d, by, outcome="granted", now=None, **extra):
    now = now or d.starts_at - timedelta(hours=1)
    values = {
        "authority": COURT,
        "reference": "DJ-2026-0042",
        "decided_at": now - timedelta(minutes=5),
        "outcome": outcome,
        "scope_window": "10:00-14:00 on the day",
        "scope_place": "Oxford Circus, two cameras",
        "scope_targets": "wanted persons, warrant list",
        "conditions": "no under-18s",
    }
    values.update(extra)
    return services.independent_authorisation_record(deployment=d, by=by, now=now, **values)


def refusals(d, kind):
    return AuditEvent.objects.filter(
        action="deployment.activation_refused", object_id=str(d.pk), details__kind=kind
    )


def test_it_does_not_require_it_by_default(deployment_in_state):
    d = deployment_in_state("live")
    assert d.independent_authorisation_required is False and d.state == State.LIVE


def test_it_sets_the_requirement_from_the_setting_when_planned(eu, deployment_in_state):
    d = deployment_in_state("draft")
    assert d.independent_authorisation_required is True
    eu.LFR_INDEPENDENT_AUTHORISATION = "never"
    d.refresh_from_db()
    assert d.independent_authorisation_required is True  # a planned one keeps its terms


def test_the_gate_refuses_without_an_independent_decision(eu, deployment_in_state):
    d = deployment_in_state("authorised")
    assert services.deployment_go_live(deployment=d, now=d.starts_at) is False
    d.refresh_from_db()
    assert d.state == State.AUTHORISED
    row = refusals(d, "independent_authorisation").get()
    assert row.details["blockers"] == ["no independent prior authorisation"]


def test_it_goes_live_with_a_granted_decision(eu, deployment_in_state, users):
    d = deployment_in_state("authorised")
    decide(d, users.authoriser)
    assert services.deployment_go_live(deployment=d, now=d.starts_at) is True
    d.refresh_from_db()
    assert d.state == State.LIVE
    row = AuditEvent.objects.get(action="deployment.independent_authorisation")
    assert row.actor_id == users.authoriser.pk and row.details["outcome"] == "granted"


def test_the_gate_refuses_after_a_refusal(eu, deployment_in_state, users):
    d = deployment_in_state("authorised")
    decide(d, users.command, outcome="refused")
    assert services.deployment_go_live(deployment=d, now=d.starts_at) is False
    assert "refused by" in refusals(d, "independent_authorisation").get().details["blockers"][0]


def test_it_requires_the_scope_of_a_grant(eu, deployment_in_state, users):
    d = deployment_in_state("submitted")
    with pytest.raises(ValidationError, match="place"):
        decide(d, users.authoriser, scope_place="")


def test_it_refuses_an_authority_not_configured(eu, deployment_in_state, users):
    d = deployment_in_state("submitted")
    with pytest.raises(ValidationError, match="must be one of"):
        decide(d, users.authoriser, authority="A friendly sergeant")


def test_it_refuses_a_decision_dated_in_the_future(eu, deployment_in_state, users):
    d = deployment_in_state("submitted")
    with pytest.raises(ValidationError, match="future"):
        decide(d, users.authoriser, decided_at=d.starts_at)


def test_it_refuses_a_decision_for_a_deployment_that_needs_none(deployment_in_state, users):
    d = deployment_in_state("submitted")
    with pytest.raises(ValidationError, match="does not need"):
        decide(d, users.authoriser)


# --- urgent use: request within the urgent clock; refused, stop at once and delete --------


@pytest.fixture
def urgent_live(eu, deployment_in_state, users):
    eu.LFR_URGENT_MODE = True
    d = deployment_in_state("submitted", urgent=True)
    services.lifecycle_tick(now=d.starts_at)
    d.refresh_from_db()
    assert d.state == State.LIVE  # before either decision
    services.deployment_authorise(deployment=d, by=users.authoriser, reason="urgent")
    make_alert(d, crop=b"\xff\xd8crop")
    d.refresh_from_db()
    return d


def test_an_urgent_start_refused_afterwards_stops_and_purges_with_a_receipt(urgent_live, users):
    d = urgent_live
    decide(d, users.authoriser, outcome="refused", now=d.starts_at + timedelta(minutes=30))
    d.refresh_from_db()
    assert d.state == State.CANCELLED and d.purged_at is not None
    assert "refused by" in d.end_reason
    assert not Alert.objects.filter(deployment=d).exists()
    assert DeploymentWatchlist.objects.get(deployment=d).encodings is None
    receipt = AuditEvent.objects.get(action="deployment.independent_refusal_purge")
    assert receipt.actor_id == users.authoriser.pk
    assert receipt.details["alerts_deleted"] == 1
    assert receipt.details["watchlist_rows_destroyed"] >= 1
    # It cannot come back: the gate refuses a cancelled deployment.
    assert services.deployment_go_live(deployment=d, now=d.starts_at + timedelta(hours=1)) is False


def test_an_urgent_start_without_an_independent_grant_lapses_on_the_clock(urgent_live, eu):
    d = urgent_live
    later = d.starts_at + timedelta(hours=eu.LFR_URGENT_AUTHORISE_HOURS, seconds=1)
    assert services.window_blocker(d, later)  # its window already closed at the clock
    assert services.lifecycle_tick(now=later)["lapsed"] == 1
    d.refresh_from_db()
    assert d.state == State.CANCELLED and d.purged_at is not None
    assert "independently authorised" in d.end_reason
    receipt = AuditEvent.objects.get(action="deployment.urgent_lapsed", object_id=str(d.pk))
    assert receipt.details["alerts_deleted"] == 1


def test_an_urgent_start_granted_in_time_runs_on(urgent_live, users, eu):
    d = urgent_live
    decide(d, users.command, now=d.starts_at + timedelta(minutes=30))
    later = d.starts_at + timedelta(hours=eu.LFR_URGENT_AUTHORISE_HOURS, seconds=1)
    assert services.window_blocker(d, later) == ""
    services.lifecycle_tick(now=later)
    d.refresh_from_db()
    assert d.state == State.LIVE and Alert.objects.filter(deployment=d).count() == 1


def test_a_grant_withdrawn_while_live_stops_without_purging(eu, deployment_in_state, users):
    d = deployment_in_state("authorised")
    decide(d, users.authoriser)
    services.deployment_go_live(deployment=d, now=d.starts_at)
    make_alert(d)
    decide(d, users.authoriser, outcome="refused", now=d.starts_at + timedelta(minutes=30))
    d.refresh_from_db()
    assert d.state == State.COMPLETED and d.purged_at is None
    assert Alert.objects.filter(deployment=d).count() == 1


# --- access: authoriser and command staff record; oversight reads; officers never ---------


@pytest.mark.parametrize("who", ["authoriser", "command"])
def test_it_lets_planners_and_authorisers_record(eu, deployment_in_state, users, who):
    d = deployment_in_state("submitted")
    assert decide(d, getattr(users, who)).recorded_by == getattr(users, who)


def test_oversight_sees_but_may_not_record(eu, deployment_in_state, users):
    d = deployment_in_state("submitted")
    with pytest.raises(access.Forbidden):
        decide(d, users.oversight)
    assert not IndependentAuthorisation.objects.exists()


def test_an_unassigned_officer_or_outsider_is_told_nothing(eu, deployment_in_state, users):
    d = deployment_in_state("submitted")
    for who in (users.officer, users.nobody):
        with pytest.raises(access.NotVisible):
            decide(d, who)


def test_an_assigned_officer_may_not_record(eu, deployment_in_state, users):
    d = deployment_in_state("submitted")
    d.officers.add(users.officer)
    with pytest.raises(access.Forbidden):
        decide(d, users.officer)


# --- the settings fail loudly --------------------------------------------------------------


def test_the_setting_refuses_an_unknown_mode(monkeypatch):
    from lfr_site.env import env_choice

    monkeypatch.setenv("LFR_INDEPENDENT_AUTHORISATION", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="always, never"):
        env_choice("LFR_INDEPENDENT_AUTHORISATION", "never", {"never", "always"})


def test_the_authorities_setting_splits_on_semicolons(monkeypatch):
    from lfr_site.env import env_names

    monkeypatch.setenv("LFR_INDEPENDENT_AUTHORITIES", "Court of Appeal, Civil; IPCO ;")
    assert env_names("LFR_INDEPENDENT_AUTHORITIES", []) == ["Court of Appeal, Civil", "IPCO"]
    monkeypatch.setenv("LFR_INDEPENDENT_AUTHORITIES", " ; ")
    with pytest.raises(ImproperlyConfigured):
        env_names("LFR_INDEPENDENT_AUTHORITIES", [])
