"""The console API: replay after a seq, decisions and corrections, by role."""

import pytest

from recognition.models import Adjudication
from tests.factories import make_alert

JSON = "application/json"
DECIDE = {"is_true_match": True, "confirmed": False, "outcome": "other", "note": "walked on"}


@pytest.fixture
def alerts(console_deployment):
    return [make_alert(console_deployment) for _ in range(3)]


def _url(deployment, after=0):
    return f"/api/v1/recognition/deployments/{deployment.pk}/alerts/?after_seq={after}"


def test_it_lists_alerts_after_a_seq(login, users, console_deployment, alerts):
    body = login(users.officer).get(_url(console_deployment, 1)).json()
    assert [a["seq"] for a in body["results"]] == [2, 3]
    assert "legal_basis" not in body["results"][0] and "case_reference" not in body["results"][0]


def test_it_lets_oversight_list_alerts(login, users, console_deployment, alerts):
    assert login(users.oversight).get(_url(console_deployment)).status_code == 200


def test_it_hides_alerts_from_an_unassigned_officer(login, users, console_deployment, alerts):
    assert login(users.officer2).get(_url(console_deployment)).status_code == 404


def test_it_records_a_decision(login, users, alerts):
    response = login(users.officer).post(
        f"/api/v1/recognition/alerts/{alerts[0].pk}/adjudication/",
        DECIDE,
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["decision"]["outcome"] == "other"


def test_it_says_409_to_a_second_decision(login, users, alerts):
    client = login(users.officer)
    url = f"/api/v1/recognition/alerts/{alerts[0].pk}/adjudication/"
    client.post(url, DECIDE, content_type="application/json")
    assert client.post(url, DECIDE, content_type=JSON).status_code == 409


def test_it_records_a_correction(login, users, alerts):
    client = login(users.officer)
    client.post(
        f"/api/v1/recognition/alerts/{alerts[0].pk}/adjudication/",
        DECIDE,
        content_type="application/json",
    )
    first = Adjudication.objects.get()
    response = client.post(
        f"/api/v1/recognition/adjudications/{first.pk}/correction/",
        {**DECIDE, "is_true_match": False, "outcome": "no_action"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["decision"]["is_correction"] is True


def test_it_refuses_oversight_a_decision(login, users, alerts):
    url = f"/api/v1/recognition/alerts/{alerts[0].pk}/adjudication/"
    assert login(users.oversight).post(url, DECIDE, content_type=JSON).status_code == 403


def test_it_hides_decisions_from_an_outsider(login, users, alerts):
    url = f"/api/v1/recognition/alerts/{alerts[0].pk}/adjudication/"
    assert login(users.officer2).post(url, DECIDE, content_type=JSON).status_code == 404


def test_it_shows_in_the_schema(login, users, db):
    body = login(users.officer).get("/api/schema/").content.decode()
    assert "/api/v1/recognition/alerts/{alert_id}/adjudication/" in body
