"""Two-person verification (EU AI Act Art. 14(5)): two different officers verify an alert
separately before anyone acts on it; the decision with its outcome waits for both."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from core import access
from core.models import AuditEvent
from deployments import selectors as deployment_selectors
from deployments.models import Deployment
from deployments.services import record_compute
from oversight.selectors import reports
from recognition import console, selectors
from recognition.models import Adjudication, Verification
from recognition.services.adjudication import adjudication_record
from recognition.services.verification import verification_record
from tests.factories import make_alert, make_deployment
from tests.helpers import make_user, sign_in

ENGAGE = {"is_true_match": True, "confirmed": True, "outcome": "arrest"}
NOT_VERIFIED = {"is_true_match": False, "confirmed": False, "outcome": "no_action"}


@pytest.fixture
def officer3(users):
    """A third officer: assigned to the deployment where a test says so."""
    return make_user("off3", access.OFFICER)


@pytest.fixture
def two_person(users):
    return make_deployment(
        officers=[users.officer, users.officer2],
        requested_by=users.command,
        verification=Deployment.Verification.TWO,
    )


@pytest.fixture
def alert(two_person):
    return make_alert(two_person)


def _seen_by(alert, user) -> dict:
    return console.alert_for_console(alert.pk, user)["verification"]


# --- the state, derived in one place ---------------------------------------------------


def test_it_waits_for_two_verifications_before_engage(alert, users):
    assert _seen_by(alert, users.officer)["state"] == "awaiting_first"
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    assert _seen_by(alert, users.officer)["state"] == "awaiting_second"
    verification_record(alert=alert, by=users.officer2, is_true_match=True)
    view = _seen_by(alert, users.officer)
    assert view["state"] == "verified" and view["label"].endswith("engage")


def test_it_refuses_the_same_officer_verifying_twice(alert, users):
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    with pytest.raises(ValidationError, match="verified this alert already") as caught:
        verification_record(alert=alert, by=users.officer, is_true_match=True)
    assert caught.value.code == "already_verified"
    assert Verification.objects.count() == 1


def test_the_database_refuses_the_same_officer_twice(alert, users):
    Verification.objects.create(alert=alert, by=users.officer, is_true_match=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Verification.objects.create(alert=alert, by=users.officer, is_true_match=False)


def test_it_refuses_a_third_verifier(alert, users, two_person, officer3):
    two_person.officers.add(officer3)
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    verification_record(alert=alert, by=users.officer2, is_true_match=True)
    with pytest.raises(ValidationError, match="Two officers have verified"):
        verification_record(alert=alert, by=officer3, is_true_match=False)


def test_it_calls_a_disagreement_not_verified(alert, users):
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    verification_record(alert=alert, by=users.officer2, is_true_match=False)
    for user in (users.officer, users.officer2):
        view = _seen_by(alert, user)
        assert view["state"] == "disagreed" and "not verified" in view["label"]
        assert [(v["by"], v["is_true_match"]) for v in view["verifications"]] == [
            ("off", True),
            ("off2", False),
        ]


def test_it_calls_two_false_matches_a_false_match(alert, users):
    verification_record(alert=alert, by=users.officer, is_true_match=False)
    verification_record(alert=alert, by=users.officer2, is_true_match=False)
    assert _seen_by(alert, users.officer2)["state"] == "false_match"


def test_it_refuses_an_officer_not_assigned(alert, users, officer3):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises((PermissionDenied, Http404)):
        verification_record(alert=alert, by=officer3, is_true_match=True)
    with pytest.raises((PermissionDenied, Http404)):
        verification_record(alert=alert, by=users.oversight, is_true_match=True)


def test_it_refuses_verification_on_a_one_person_deployment(console_deployment, users):
    alert = make_alert(console_deployment)
    with pytest.raises(ValidationError, match="decided by one officer"):
        verification_record(alert=alert, by=users.officer, is_true_match=True)
    assert console.alert_for_console(alert.pk, users.officer)["verification"] is None


# --- independence: the second officer does not see the first's decision ---------------


def test_the_second_officer_does_not_see_the_first_decision(alert, users):
    verification_record(alert=alert, by=users.officer, is_true_match=False, note="not him")
    theirs = _seen_by(alert, users.officer2)
    assert theirs["state"] == "awaiting_second" and theirs["mine"] is None
    assert theirs["verifications"] == []
    # Nothing in the whole card says what, or who: not the decision, the note, the name.
    card = str(console.alert_for_console(alert.pk, users.officer2))
    assert "not him" not in card and "'off'" not in card and "False match" not in card
    mine = _seen_by(alert, users.officer)
    assert mine["mine"]["is_true_match"] is False
    assert mine["label"].startswith("You verified: false match")


def test_a_reader_does_not_see_a_lone_verification_either(alert, users):
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    view = _seen_by(alert, users.oversight)
    assert view["count"] == 1 and view["mine"] is None and view["verifications"] == []


def test_the_shared_batch_is_shown_to_each_viewer_as_their_own(alert, users, two_person):
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    read = console._after(two_person, 0)
    first, second = read.shown(users.officer)[0], read.shown(users.officer2)[0]
    assert first["verification"]["mine"]["is_true_match"] is True
    assert second["verification"]["mine"] is None


# --- the decision with its outcome waits for both --------------------------------------


def test_it_refuses_a_decision_before_two_verifications(alert, users):
    with pytest.raises(ValidationError, match="Two different officers must verify"):
        adjudication_record(alert=alert, by=users.officer, **ENGAGE)
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    with pytest.raises(ValidationError, match="Two different officers must verify"):
        adjudication_record(alert=alert, by=users.officer, **ENGAGE)
    assert not Adjudication.objects.exists()


def test_it_records_the_outcome_once_verified(alert, users):
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    verification_record(alert=alert, by=users.officer2, is_true_match=True)
    adj = adjudication_record(alert=alert, by=users.officer2, **ENGAGE)
    assert adj.outcome == "arrest"


def test_it_allows_only_no_action_on_a_disagreement(alert, users):
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    verification_record(alert=alert, by=users.officer2, is_true_match=False)
    with pytest.raises(ValidationError, match="not verified by two officers"):
        adjudication_record(alert=alert, by=users.officer, **ENGAGE)
    adj = adjudication_record(alert=alert, by=users.officer, **NOT_VERIFIED)
    assert adj.is_true_match is False and adj.outcome == "no_action"


# --- audit, and both identities and times on the alert ---------------------------------


def test_it_audits_each_verification_with_both_identities(alert, users):
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    verification_record(alert=alert, by=users.officer2, is_true_match=False)
    first, second = AuditEvent.objects.filter(action="alert.verified").order_by("pk")
    assert first.actor_id == users.officer.pk and first.details["nth"] == 1
    assert second.actor_id == users.officer2.pk and second.details["state"] == "disagreed"
    assert [v["by"] for v in second.details["verifiers"]] == [users.officer.pk, users.officer2.pk]
    assert all(v["at"] for v in second.details["verifiers"])
    rows = _seen_by(alert, users.officer)["verifications"]
    assert [r["by"] for r in rows] == ["off", "off2"] and all(r["at"] for r in rows)


# --- records and reports ---------------------------------------------------------------


def _three_ways(deployment, users):
    """One alert verified by two, one disagreed, one with a single true verification."""
    verified, disagreed, single = (make_alert(deployment) for _ in range(3))
    for alert, says in ((verified, (True, True)), (disagreed, (True, False)), (single, (True,))):
        for officer, is_true in zip((users.officer, users.officer2), says, strict=False):
            verification_record(alert=alert, by=officer, is_true_match=is_true)
    return verified, disagreed, single


def test_the_record_counts_verified_single_and_disagreed(two_person, users):
    _three_ways(two_person, users)
    Deployment.objects.filter(pk=two_person.pk).update(state=Deployment.State.COMPLETED)
    two_person.refresh_from_db()
    record = record_compute(deployment=two_person)
    row = deployment_selectors.published_row(record)
    assert row["Alert Verification"] == "two officers"
    assert row["Verified by Two Officers"] == 1
    assert row["Single-verified"] == 1
    assert row["Verification Disagreed"] == 1


def test_a_one_person_record_counts_its_true_decisions_single_verified(console_deployment, users):
    alert = make_alert(console_deployment)
    adjudication_record(alert=alert, by=users.officer, **ENGAGE)
    assert selectors.verification_figures(console_deployment) == {
        "verified": 0,
        "single_verified": 1,
        "disagreed": 0,
    }


def test_the_effectiveness_report_counts_verification(two_person, users):
    _three_ways(two_person, users)
    total = reports.effectiveness(by="deployment")["total"]
    assert (total["verified"], total["single_verified"], total["verification_disagreed"]) == (
        1,
        1,
        1,
    )


# --- the page action and the API --------------------------------------------------------


def _client(user):
    return sign_in(Client(), user)


def test_the_api_records_a_verification_and_refuses_a_second(alert, users):
    url = f"/api/v1/recognition/alerts/{alert.pk}/verification/"
    officer = _client(users.officer)
    response = officer.post(url, {"is_true_match": True}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["verification"]["mine"]["is_true_match"] is True
    again = officer.post(url, {"is_true_match": True}, content_type="application/json")
    assert again.status_code == 409


def test_the_api_refuses_oversight_and_outsiders(alert, users, officer3):
    url = f"/api/v1/recognition/alerts/{alert.pk}/verification/"
    body = {"is_true_match": True}
    reader = _client(users.oversight).post(url, body, content_type="application/json")
    outsider = _client(officer3).post(url, body, content_type="application/json")
    assert (reader.status_code, outsider.status_code) == (403, 404)


def test_the_api_refuses_a_decision_before_verification(alert, users):
    response = _client(users.officer).post(
        f"/api/v1/recognition/alerts/{alert.pk}/adjudication/",
        ENGAGE,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Two different officers" in response.json()["detail"]


def test_the_console_form_records_a_verification_as_json(alert, users):
    response = _client(users.officer2).post(
        reverse("recognition:verify", args=[alert.pk]),
        {"is_true_match": "false"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json()["alert"]["verification"]["mine"]["is_true_match"] is False


def test_the_plan_api_takes_the_verification_choice(two_person):
    from deployments.api import DeploymentOut

    assert DeploymentOut(two_person).data["verification"] == "two"


def test_a_force_that_requires_two_refuses_a_one_person_plan(settings):
    from deployments.services.planning import _check_verification, verification_default

    settings.LFR_REQUIRE_TWO_PERSON_VERIFICATION = True
    assert verification_default() == "two"
    with pytest.raises(ValidationError, match="requires every alert"):
        _check_verification({"verification": "one"})
    settings.LFR_REQUIRE_TWO_PERSON_VERIFICATION = False
    assert verification_default() == "one"
    _check_verification({"verification": "one"})


# --- races --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_records_one_verification_when_the_same_officer_races(users):
    deployment = make_deployment(
        officers=[users.officer, users.officer2], verification=Deployment.Verification.TWO
    )
    alert = make_alert(deployment)
    barrier, results = threading.Barrier(2), []

    def verify():
        try:
            barrier.wait(timeout=30)
            verification_record(alert=alert, by=users.officer, is_true_match=True)
            results.append("ok")
        except ValidationError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=verify) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["already_verified", "ok"]
    assert Verification.objects.filter(alert=alert).count() == 1


def test_a_retried_verification_already_saved_is_said_saved(alert, users):
    url = reverse("recognition:verify", args=[alert.pk])
    officer = _client(users.officer)
    officer.post(url, {"is_true_match": "true"}, HTTP_ACCEPT="application/json")
    again = officer.post(
        url, {"is_true_match": "true", "retry": "1"}, HTTP_ACCEPT="application/json"
    )
    assert again.status_code == 200 and again.json()["saved"] == "before"
    changed = officer.post(
        url, {"is_true_match": "false", "retry": "1"}, HTTP_ACCEPT="application/json"
    )
    assert changed.status_code == 409


# --- planning: the API and the form take the choice; the authoriser sees it ------------


def test_the_plan_api_defaults_to_two_and_refuses_one_where_required(login, users, plan):
    from tests.test_deployments_api import API, _body

    client = login(users.command)
    made = client.post(f"{API}create/", _body(plan()), content_type="application/json")
    assert made.status_code == 201 and made.json()["verification"] == "two"
    one = client.post(
        f"{API}create/", {**_body(plan()), "verification": "one"}, content_type="application/json"
    )
    assert one.status_code == 400 and "requires every alert" in str(one.json())


def test_a_force_without_the_rule_may_plan_one(login, users, plan, settings):
    from tests.test_deployments_api import API, _body

    settings.LFR_REQUIRE_TWO_PERSON_VERIFICATION = False
    made = login(users.command).post(
        f"{API}create/", {**_body(plan()), "verification": "one"}, content_type="application/json"
    )
    assert made.status_code == 201 and made.json()["verification"] == "one"


def test_the_authoriser_sees_the_verification_choice(login, users, two_person):
    from deployments.services import deployment_submit

    type(two_person).objects.filter(pk=two_person.pk).update(state=Deployment.State.DRAFT)
    two_person.refresh_from_db()
    deployment_submit(deployment=two_person, by=users.command)
    page = login(users.authoriser).get(reverse("deployments:authorise", args=[two_person.pk]))
    assert "Two officers, separately (EU AI Act Art. 14(5))" in page.content.decode()


def test_the_home_page_tells_the_other_officer_an_alert_waits_for_them(login, users, alert):
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    theirs = login(users.officer2).get("/").content.decode()
    assert "alert waits for a second verifier: you" in theirs
    mine = _client(users.officer).get("/").content.decode()
    assert "second verifier" not in mine


def test_the_use_log_names_both_verifiers_then_the_decider(alert, users):
    """Art. 12(3)(d): the log says who verified; on a two-person deployment, both."""
    verification_record(alert=alert, by=users.officer2, is_true_match=True)
    verification_record(alert=alert, by=users.officer, is_true_match=True)
    adjudication_record(
        alert=alert, by=users.officer, is_true_match=True, confirmed=True, outcome="arrest"
    )
    names = selectors.alert_verifiers([alert.pk])[alert.pk]
    assert names == [users.officer2.get_username(), users.officer.get_username()]
