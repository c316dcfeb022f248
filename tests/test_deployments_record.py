"""The published record: the Met's fields computed from alerts and their adjudications."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import access
from core.models import AuditEvent
from deployments import selectors, services


def _alert(d, seq):
    from tests.factories import make_alert

    alert = make_alert(d, subject=f"SUBJ-{seq}")
    assert alert.seq == seq
    return alert


def _adjudicate(alert, by, true, confirmed, outcome, corrects=None):
    from recognition.models import Adjudication

    return Adjudication.objects.create(
        alert=alert,
        by=by,
        is_true_match=true,
        confirmed=confirmed,
        outcome=outcome,
        corrects=corrects,
    )


@pytest.fixture
def finished(deployment_in_state, users):
    """A deployment that ran 4 h with 6 alerts, one corrected, one never adjudicated."""
    d = deployment_in_state("live")
    off = users.officer
    a = [_alert(d, i) for i in range(1, 7)]
    _adjudicate(a[0], off, True, True, "arrest")
    _adjudicate(a[1], off, True, False, "other")
    first = _adjudicate(a[2], off, True, True, "arrest")
    _adjudicate(a[2], off, False, True, "no_action", corrects=first)  # corrected to false
    _adjudicate(a[3], off, False, False, "no_action")
    _adjudicate(a[4], off, True, True, "arrest")
    # a[5] is not adjudicated
    type(d).objects.filter(pk=d.pk).update(faces_seen=12345)
    services.lifecycle_tick(now=d.ends_at)
    d.refresh_from_db()
    return d


def test_the_record_has_exactly_the_mets_fields(finished):
    # Sets: PostgreSQL's jsonb does not keep key order; exports re-order by MET_FIELDS.
    assert set(finished.record.fields) == set(selectors.MET_FIELDS)
    assert list(selectors.published_rows()[0]) == selectors.MET_FIELDS + selectors.EXTRA_FIELDS


def test_the_record_counts_the_latest_adjudication(finished):
    f = finished.record.fields
    assert f["Deployment Location"] == "Oxford Circus"
    assert f["Duration"] == "4h 00m"
    assert f["LFR Use Case"] == "Crime hotspot"
    assert f["Min Threshold Setting"] == 0.5
    assert f["Total Alerts"] == 6
    assert f["True Alerts Confirmed"] == 2
    assert f["True Alerts Unconfirmed"] == 1
    assert f["False Alerts Confirmed"] == 1
    assert f["False Alerts Unconfirmed"] == 1
    assert f["False Alert Rate"] == "40.00% of 5 adjudicated"  # 2 false of 5 decided
    assert f["Outcome - Arrest"] == 2
    assert f["Outcome - Other"] == 1
    assert f["No action"] == 2
    assert f["Faces seen (estimate)"] == 12345
    assert selectors.alert_figures(finished)["unadjudicated"] == 1
    assert finished.record.not_adjudicated == 1


def test_false_alert_rate_without_alerts_is_not_a_number(deployment_in_state):
    d = deployment_in_state("completed")
    assert d.record.fields["False Alert Rate"] == "n/a"
    assert selectors.format_rate(10, 2077) == "0.48% of 2077 adjudicated"  # the Met, 2024-25


def test_watchlist_size_counts_entries(deployment_in_state, users):
    from tests.fixtures_deployments import make_entry, random_encoding

    make_entry(users.contributor, users.manager, encodings=[random_encoding(1), random_encoding(2)])
    make_entry(users.contributor, users.manager)
    d = deployment_in_state("completed")
    assert d.record.fields["Watchlist Size"] == 2


def test_late_adjudications_update_the_record_until_sign_off(finished, users):
    from recognition.models import Alert

    last = Alert.objects.get(deployment=finished, seq=6)
    first = _adjudicate(last, users.officer, True, True, "arrest")
    record = services.record_review(deployment=finished, by=users.command, review="Went well.")
    assert record.fields["Outcome - Arrest"] == 3
    services.record_signoff(deployment=finished, by=users.oversight)
    _adjudicate(last, users.officer2, False, True, "other", corrects=first)
    assert services.record_compute(deployment=finished).fields["Outcome - Arrest"] == 3


def test_sign_off_needs_a_review_first(finished, users):
    with pytest.raises(ValidationError, match="must write the review"):
        services.record_signoff(deployment=finished, by=users.oversight)


def test_only_oversight_signs_off(finished, users):
    services.record_review(deployment=finished, by=users.command, review="ok")
    with pytest.raises(access.Forbidden):
        services.record_signoff(deployment=finished, by=users.command)


def test_sign_off_happens_once_and_is_audited(finished, users):
    services.record_review(deployment=finished, by=users.command, review="ok")
    services.record_signoff(deployment=finished, by=users.oversight)
    with pytest.raises(ValidationError, match="already signed off"):
        services.record_signoff(deployment=finished, by=users.oversight)
    with pytest.raises(ValidationError, match="signed off"):
        services.record_review(deployment=finished, by=users.command, review="changed")
    assert AuditEvent.objects.filter(action="deployment.signoff").count() == 1


def test_a_review_needs_a_completed_deployment(deployment_in_state, users):
    d = deployment_in_state("live")
    with pytest.raises(ValidationError, match="once the deployment has completed"):
        services.record_review(deployment=d, by=users.command, review="early")


def test_stopping_early_records_the_actual_duration(deployment_in_state, users):
    d = deployment_in_state("live", starts_at=timezone.now() - timedelta(minutes=90))
    d = services.deployment_stop(deployment=d, by=users.command, reason="disorder")
    started = d.started_at
    expected = round((d.ended_at - started).total_seconds() / 60)
    assert d.record.fields["Duration"] == f"{expected // 60}h {expected % 60:02d}m"
