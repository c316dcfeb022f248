"""Console pages, images and the decision form: allowed, read-only and outsider paths."""

import pytest

from core.models import AuditEvent
from recognition.models import Adjudication
from tests.factories import make_alert, make_deployment


@pytest.fixture
def alert(console_deployment):
    return make_alert(console_deployment)


def _purpose(deployment):
    return {"purpose": f"deployment {deployment.reference} live monitoring"}


def test_it_lists_assigned_deployments_live_first(login, users, console_deployment):
    soon = make_deployment(officers=[users.officer], requested_by=users.command, state="authorised")
    other = make_deployment(officers=[users.officer2], requested_by=users.command)
    body = login(users.officer).get("/recognition/").content.decode()
    assert console_deployment.reference in body and soon.reference in body
    assert body.index(console_deployment.reference) < body.index(soon.reference)
    assert f"{other.reference}<" not in body


def test_it_shows_a_useful_empty_state(login, users, db):
    body = login(users.officer).get("/recognition/").content.decode()
    assert "not assigned to any live or upcoming deployment" in body


def test_it_hides_the_console_list_from_users_with_no_role(login, users, db):
    assert login(users.nobody).get("/recognition/").status_code == 404


def test_it_shows_the_console_to_the_assigned_officer(login, users, console_deployment):
    response = login(users.officer).get(
        f"/recognition/deployments/{console_deployment.pk}/console/"
    )
    assert response.status_code == 200
    assert b"console.js" in response.content and b'can_adjudicate": true' in response.content


def test_it_shows_oversight_a_read_only_console(login, users, console_deployment):
    response = login(users.oversight).get(
        f"/recognition/deployments/{console_deployment.pk}/console/"
    )
    assert response.status_code == 200 and b'can_adjudicate": false' in response.content


def test_it_hides_the_console_from_an_unassigned_officer(login, users, console_deployment):
    url = f"/recognition/deployments/{console_deployment.pk}/console/"
    assert login(users.officer2).get(url).status_code == 404
    assert AuditEvent.objects.filter(action="deployment.watch", outcome="denied").exists()


def test_it_serves_the_crop_with_a_purpose_no_store_and_audit(login, users, alert):
    response = login(users.officer).get(
        f"/recognition/alerts/{alert.pk}/crop.jpg", _purpose(alert.deployment)
    )
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="alert.crop_viewed")
    assert event.purpose.startswith(f"deployment {alert.deployment.reference}")
    assert "crop" not in event.details


def test_it_refuses_an_image_without_a_purpose(login, users, alert):
    assert login(users.officer).get(f"/recognition/alerts/{alert.pk}/crop.jpg").status_code == 400


def test_it_hides_images_from_an_unassigned_officer(login, users, alert):
    url = f"/recognition/alerts/{alert.pk}/crop.jpg"
    assert login(users.officer2).get(url, _purpose(alert.deployment)).status_code == 404


def test_it_says_404_for_a_reference_image_no_longer_held(login, users, alert):
    url = f"/recognition/alerts/{alert.pk}/reference.jpg"
    assert login(users.officer).get(url, _purpose(alert.deployment)).status_code == 404


def test_it_serves_the_reference_image_of_the_alerted_entry(login, users, alert):
    from tests.fixtures_console import reference_entry

    entry = reference_entry(users, "lin-manuel-miranda.png")
    alert.entry_id = entry.pk
    alert.save(update_fields=["entry_id"])
    response = login(users.officer).get(
        f"/recognition/alerts/{alert.pk}/reference.jpg", _purpose(alert.deployment)
    )
    assert response.status_code == 200 and response.content[:3] == b"\xff\xd8\xff"
    assert AuditEvent.objects.filter(action="alert.reference_viewed").count() == 1


DECIDE = {"is_true_match": "true", "confirmed": "true", "outcome": "arrest", "note": ""}


def test_it_records_a_decision_from_the_form(login, users, alert):
    response = login(users.officer).post(
        f"/recognition/alerts/{alert.pk}/adjudicate/", DECIDE, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    decision = response.json()["alert"]["decision"]
    assert decision["is_true_match"] is True and decision["outcome"] == "arrest"


def test_it_says_409_to_a_second_decision_from_the_form(login, users, alert):
    client = login(users.officer)
    url = f"/recognition/alerts/{alert.pk}/adjudicate/"
    client.post(url, DECIDE, HTTP_ACCEPT="application/json")
    second = client.post(url, DECIDE, HTTP_ACCEPT="application/json")
    assert second.status_code == 409 and "correction" in second.json()["error"]


def test_it_confirms_a_retried_decision_that_was_saved_already(login, users, alert):
    client = login(users.officer)
    url = f"/recognition/alerts/{alert.pk}/adjudicate/"
    client.post(url, DECIDE, HTTP_ACCEPT="application/json")  # its answer was lost
    again = client.post(url, {**DECIDE, "retry": "1"}, HTTP_ACCEPT="application/json")
    assert again.status_code == 200 and again.json()["saved"] == "before"
    assert again.json()["alert"]["decision"]["outcome"] == "arrest"
    assert Adjudication.objects.count() == 1


def test_it_refuses_a_retried_decision_that_differs_from_the_saved_one(login, users, alert):
    client = login(users.officer)
    url = f"/recognition/alerts/{alert.pk}/adjudicate/"
    client.post(url, DECIDE, HTTP_ACCEPT="application/json")
    other = {**DECIDE, "outcome": "other", "retry": "1"}
    assert client.post(url, other, HTTP_ACCEPT="application/json").status_code == 409
    assert login(users.officer2).post(
        url, {**DECIDE, "retry": "1"}, HTTP_ACCEPT="application/json"
    ).status_code in (404, 409)
    assert Adjudication.objects.count() == 1


def test_it_confirms_a_retried_correction_once(login, users, alert):
    client = login(users.officer)
    url = f"/recognition/alerts/{alert.pk}/adjudicate/"
    client.post(url, DECIDE, HTTP_ACCEPT="application/json")
    first = Adjudication.objects.get()
    fix = {**DECIDE, "is_true_match": "false", "corrects": first.pk}
    client.post(url, fix, HTTP_ACCEPT="application/json")
    again = client.post(url, {**fix, "retry": "1"}, HTTP_ACCEPT="application/json")
    assert again.status_code == 200 and Adjudication.objects.filter(corrects=first).count() == 1


def test_it_records_a_correction_from_the_form(login, users, alert):
    client = login(users.officer)
    url = f"/recognition/alerts/{alert.pk}/adjudicate/"
    client.post(url, DECIDE, HTTP_ACCEPT="application/json")
    first = Adjudication.objects.get()
    client.post(
        url,
        {**DECIDE, "is_true_match": "false", "corrects": first.pk},
        HTTP_ACCEPT="application/json",
    )
    assert Adjudication.objects.get(corrects=first).is_true_match is False


def test_it_refuses_oversight_a_decision(login, users, alert):
    url = f"/recognition/alerts/{alert.pk}/adjudicate/"
    assert login(users.oversight).post(url, DECIDE).status_code == 403


def test_it_hides_the_decision_form_from_an_outsider(login, users, alert):
    url = f"/recognition/alerts/{alert.pk}/adjudicate/"
    assert login(users.officer2).post(url, DECIDE).status_code == 404


def test_it_renders_the_camera_status_fragment(login, users, console_deployment):
    url = f"/recognition/deployments/{console_deployment.pk}/cameras/"
    response = login(users.command).get(url)
    assert response.status_code == 200 and b"camera-status" in response.content


def test_it_hides_camera_status_from_an_outsider(login, users, console_deployment):
    url = f"/recognition/deployments/{console_deployment.pk}/cameras/"
    assert login(users.officer2).get(url).status_code == 404


def test_the_console_list_shows_only_consoles_there_are_to_open(login, users):
    from django.urls import reverse

    from deployments.models import Deployment
    from tests.factories import make_deployment
    from tests.fixtures_console import make_alert

    S = Deployment.State
    live = make_deployment(officers=[users.officer])
    upcoming = make_deployment(officers=[users.officer], state=S.AUTHORISED)
    to_finish = make_deployment(officers=[users.officer], state=S.COMPLETED)
    make_alert(to_finish, nudge=False)
    finished = make_deployment(officers=[users.officer], state=S.COMPLETED)
    draft = make_deployment(officers=[users.officer], state=S.DRAFT)
    html = login(users.officer).get(reverse("recognition:consoles")).content.decode()
    for shown in (live, upcoming, to_finish):
        assert shown.reference in html
    for hidden in (finished, draft):
        assert hidden.reference not in html
    assert html.count("● Live now") == 1 and "Decide remaining alerts" in html
