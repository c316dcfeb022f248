"""Issue 24.5: images and decisions through side doors. An alert's crop follows the rule
of the deployment's officers, its reference photo the watchlist's too; legal holds and
early stops are decisions of a signed-in person, never of an API token."""

import pytest
from django.test import Client

from core import access, tokens
from tests.factories import make_alert, make_deployment
from tests.fixtures_console import reference_entry
from tests.fixtures_oversight import crop_bytes
from watchlists.models import ReferenceImage

REASON = "R v Smith, Southwark Crown Court, disclosure due"


@pytest.fixture
def alert(users):
    deployment = make_deployment(officers=[users.officer], requested_by=users.command)
    alert = make_alert(deployment, crop=crop_bytes())
    entry = reference_entry(users, "lin-manuel-miranda.png")
    alert.entry_id = entry.pk
    alert.save(update_fields=["entry_id"])
    return alert


def _get(client, alert, what):
    purpose = {"purpose": f"deployment {alert.deployment.reference} live monitoring"}
    return client.get(f"/recognition/alerts/{alert.pk}/{what}.jpg", purpose).status_code


@pytest.mark.parametrize("what", ["crop", "reference"])
def test_the_assigned_officer_sees_the_alerts_images(login, users, alert, what):
    assert _get(login(users.officer), alert, what) == 200


@pytest.mark.parametrize("what", ["crop", "reference"])
def test_oversight_reads_the_alerts_images(login, users, alert, what):
    assert _get(login(users.oversight), alert, what) == 200


@pytest.mark.parametrize("what", ["crop", "reference"])
def test_command_staff_who_planned_it_may_hold_but_not_see_the_images(login, users, alert, what):
    assert _get(login(users.command), alert, what) == 403


def test_an_administrator_reads_no_reference_photo_through_an_alert(login, users, alert):
    client = login(users.admin)
    image = ReferenceImage.objects.get(entry_id=alert.entry_id)
    assert client.get(f"/watchlists/images/{image.pk}/", {"purpose": "x"}).status_code == 404
    assert _get(client, alert, "reference") == 403
    assert _get(client, alert, "crop") == 403


@pytest.mark.parametrize("what", ["crop", "reference"])
def test_an_officer_of_another_deployment_sees_no_images(login, users, alert, what):
    assert _get(login(users.officer2), alert, what) == 404


def _token(users, role=access.COMMAND_STAFF):
    _, key = tokens.api_token_create(by=users.admin, name="Planner", role=role)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_person_of_command_staff_places_and_releases_a_hold(login, users, alert):
    client = login(users.command)
    url = f"/api/v1/oversight/alerts/{alert.pk}/"
    assert client.post(url + "hold/", {"reason": REASON}).status_code == 200
    assert client.post(url + "release/", {"reason": REASON}).status_code == 200


def test_a_command_staff_token_may_not_place_or_release_a_hold(users, alert):
    from recognition.services.holds import alert_hold_place

    client = _token(users)
    url = f"/api/v1/oversight/alerts/{alert.pk}/"
    assert client.post(url + "hold/", {"reason": REASON}).status_code == 403
    alert_hold_place(alert=alert, by=users.command, reason=REASON)
    assert client.post(url + "release/", {"reason": REASON}).status_code == 403
    alert.refresh_from_db()
    assert alert.legal_hold


def test_an_officer_may_not_hold(login, users, alert):
    url = f"/api/v1/oversight/alerts/{alert.pk}/hold/"
    assert login(users.officer2).post(url, {"reason": REASON}).status_code == 404


@pytest.fixture
def live(users):
    return make_deployment(officers=[users.officer], requested_by=users.command, state="live")


def test_a_person_of_command_staff_stops_a_live_deployment(login, users, live):
    response = login(users.command).post(
        f"/api/v1/deployments/{live.pk}/stop/", {"reason": "crowd dispersed"}
    )
    assert response.status_code == 200, response.content
    live.refresh_from_db()
    assert live.state == "completed"


def test_a_command_staff_token_may_not_stop_a_live_deployment(users, live):
    client = _token(users)
    response = client.post(f"/api/v1/deployments/{live.pk}/stop/", {"reason": "because"})
    assert response.status_code == 403
    live.refresh_from_db()
    assert live.state == "live"


def test_an_officer_may_not_stop_a_deployment(login, users, live):
    response = login(users.officer).post(
        f"/api/v1/deployments/{live.pk}/stop/", {"reason": "because"}
    )
    assert response.status_code == 403
