"""Assessments by reference with versions and review dates; the gate refuses an expired one."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import reverse

from core import access
from core.models import AuditEvent
from deployments import services
from deployments.services import State


def record(by, kind="dpia", version="1", review_in_days=365, **extra):
    from django.utils import timezone

    values = {
        "kind": kind,
        "reference": f"{kind.upper()}-LFR",
        "version": version,
        "owner": "Head of Information Management",
        "review_date": timezone.localdate() + timedelta(days=review_in_days),
    }
    values.update(extra)
    return services.assessment_record(by=by, **values)


@pytest.fixture
def uk(settings):
    settings.LFR_REQUIRED_ASSESSMENTS = ["dpia", "policy", "equality"]
    return settings


def test_with_none_required_the_gate_needs_only_the_references(deployment_in_state):
    assert deployment_in_state("live").state == State.LIVE


def test_the_gate_refuses_a_missing_assessment(uk, deployment_in_state, users):
    record(users.authoriser, "dpia")
    record(users.authoriser, "policy")
    d = deployment_in_state("authorised")
    assert services.deployment_go_live(deployment=d, now=d.starts_at) is False
    row = AuditEvent.objects.get(action="deployment.activation_refused", details__kind="assessment")
    assert row.details["blockers"] == ["no approved Equality impact assessment"]


def test_the_gate_refuses_one_past_its_review_date(uk, deployment_in_state, users):
    for kind in ("dpia", "policy"):
        record(users.authoriser, kind)
    # Its review falls before the deployment's start (next week).
    record(users.admin, "equality", review_in_days=1)
    d = deployment_in_state("authorised")
    assert services.deployment_go_live(deployment=d, now=d.starts_at) is False
    row = AuditEvent.objects.get(action="deployment.activation_refused", details__kind="assessment")
    assert "was due for review" in row.details["blockers"][0]


def test_a_new_version_replaces_the_expired_one(uk, deployment_in_state, users):
    for kind in ("dpia", "policy"):
        record(users.authoriser, kind)
    record(users.authoriser, "equality", review_in_days=1)
    record(users.authoriser, "equality", version="2")
    d = deployment_in_state("authorised")
    assert services.deployment_go_live(deployment=d, now=d.starts_at) is True


def test_an_eu_force_also_needs_the_fria_and_the_registration(settings, deployment_in_state, users):
    settings.LFR_REQUIRED_ASSESSMENTS = ["dpia", "fria", "eu_registration"]
    record(users.authoriser, "dpia")
    record(users.authoriser, "fria")
    d = deployment_in_state("authorised")
    assert services.deployment_go_live(deployment=d, now=d.starts_at) is False
    record(users.authoriser, "eu_registration", reference="EU-DB-0001")
    assert services.deployment_go_live(deployment=d, now=d.starts_at) is True


def test_recording_is_audited_and_versions_are_unique(users):
    record(users.authoriser)
    assert AuditEvent.objects.get(action="assessment.record").details["version"] == "1"
    with pytest.raises(ValidationError, match="already recorded"):
        record(users.authoriser)


def test_the_review_date_must_follow_the_approval(users):
    with pytest.raises(ValidationError, match="review date"):
        record(users.authoriser, review_in_days=0)


@pytest.mark.parametrize("who", ["command", "oversight"])
def test_readers_may_not_record(users, who):
    with pytest.raises(access.Forbidden):
        record(getattr(users, who))


def test_an_outsider_or_officer_is_told_nothing(users):
    for who in (users.nobody, users.officer):
        with pytest.raises(access.NotVisible):
            record(who)


def test_the_page_lists_them_with_their_review_state(uk, login, users):
    record(users.authoriser, "dpia")
    page = login(users.oversight).get(reverse("deployments:assessments"))
    body = page.content.decode()
    assert page.status_code == 200 and "DPIA-LFR" in body and "current" in body
    assert "no approved Equality impact assessment" in body
    assert "Record an approved version" not in body  # oversight reads


def test_an_outsider_gets_404_on_the_page(login, users):
    assert login(users.nobody).get(reverse("deployments:assessments")).status_code == 404


def test_the_setting_refuses_an_unknown_kind(monkeypatch):
    from lfr_site.env import env_subset

    monkeypatch.setenv("LFR_REQUIRED_ASSESSMENTS", "dpia,vibes")
    with pytest.raises(ImproperlyConfigured, match="vibes"):
        env_subset("LFR_REQUIRED_ASSESSMENTS", [], ["dpia", "policy"])
