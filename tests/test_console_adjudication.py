"""Adjudication: recorded once, corrected by a new row, audited, told to other consoles."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from core.models import AuditEvent
from recognition import selectors
from recognition.models import Adjudication
from recognition.services.adjudication import adjudication_correct, adjudication_record
from tests.factories import make_alert

DECISION = {"is_true_match": True, "confirmed": True, "outcome": "arrest"}


@pytest.fixture
def alert(console_deployment):
    return make_alert(console_deployment)


def test_it_records_a_decision_and_audits_it(alert, users):
    adj = adjudication_record(alert=alert, by=users.officer, note="spoke to him", **DECISION)
    assert adj.corrects is None and adj.outcome == "arrest"
    event = AuditEvent.objects.get(action="alert.adjudicated")
    assert event.actor_id == users.officer.pk
    assert event.details["outcome"] == "arrest" and "note" not in event.details


def test_it_refuses_a_second_plain_decision(alert, users, console_deployment):
    console_deployment.officers.add(users.officer2)
    adjudication_record(alert=alert, by=users.officer, **DECISION)
    with pytest.raises(ValidationError, match="already been adjudicated"):
        adjudication_record(alert=alert, by=users.officer2, **{**DECISION, "outcome": "other"})
    assert Adjudication.objects.count() == 1


def test_it_records_a_correction_pointing_at_the_first(alert, users):
    first = adjudication_record(alert=alert, by=users.officer, **DECISION)
    fixed = adjudication_correct(
        first=first, by=users.officer, is_true_match=False, confirmed=True, outcome="no_action"
    )
    assert fixed.corrects == first
    assert selectors.decisions_in_force().get(alert=alert) == fixed
    assert AuditEvent.objects.filter(action="alert.adjudication_corrected").count() == 1


def test_it_refuses_correcting_a_decision_twice(alert, users):
    first = adjudication_record(alert=alert, by=users.officer, **DECISION)
    adjudication_correct(first=first, by=users.officer, **DECISION)
    with pytest.raises(ValidationError, match="already been corrected"):
        adjudication_correct(first=first, by=users.officer, **DECISION)


def test_it_refuses_an_unknown_outcome_or_group(alert, users):
    with pytest.raises(ValidationError, match="Outcome"):
        adjudication_record(alert=alert, by=users.officer, **{**DECISION, "outcome": "maybe"})
    with pytest.raises(ValidationError, match="Perceived group"):
        adjudication_record(alert=alert, by=users.officer, perceived_group="Martian", **DECISION)


def test_it_keeps_a_perceived_group_from_the_settings_list(alert, users, settings):
    adj = adjudication_record(
        alert=alert, by=users.officer, perceived_group=settings.LFR_EQUALITY_GROUPS[0], **DECISION
    )
    assert adj.perceived_group == settings.LFR_EQUALITY_GROUPS[0]


def test_it_counts_decisions_in_force_for_the_published_record(console_deployment, users):
    a1, a2, _a3 = (make_alert(console_deployment) for _ in range(3))
    first = adjudication_record(alert=a1, by=users.officer, **DECISION)
    adjudication_correct(
        first=first, by=users.officer, is_true_match=False, confirmed=True, outcome="no_action"
    )
    adjudication_record(
        alert=a2, by=users.officer, is_true_match=True, confirmed=False, outcome="other"
    )
    figures = selectors.alert_figures(console_deployment)
    assert figures["total"] == 3
    assert figures["false_confirmed"] == 1
    assert figures["true_unconfirmed"] == 1
    assert figures["true_confirmed"] == 0
    assert figures["unadjudicated"] == 1
    assert figures["no_action"] == 1 and figures["other"] == 1


@pytest.mark.django_db(transaction=True)
def test_it_records_one_decision_when_two_officers_race(users, console_deployment):
    console_deployment.officers.add(users.officer2)
    alert = make_alert(console_deployment)
    barrier = threading.Barrier(2)
    results = []

    def decide(user):
        try:
            barrier.wait()
            adjudication_record(alert=alert, by=user, **DECISION)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        except Exception as exc:  # SQLite may refuse the second writer outright
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(u,)) for u in (users.officer, users.officer2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    assert Adjudication.objects.filter(alert=alert).count() == 1
