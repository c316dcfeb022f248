"""A sighting of an alert a console already shows updates that card: socket and API."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async as sync_to_async
from django.utils import timezone

from recognition import console
from tests import test_console_socket as sockets
from tests.factories import make_alert
from tests.fixtures_console import reference_entry
from tests.test_console_socket import WAIT, _resume, _watching

# Its reader-connection cleanup and wall-clock-free ticks, for these sockets too.
_close_reader_connection = sockets._close_reader_connection
_no_wall_clock = sockets._no_wall_clock


@pytest.fixture
def entry(users):
    return reference_entry(users, "obama.jpg")


def _sighting(deployment, entry, seconds, camera=None):
    start = timezone.now() - timedelta(minutes=30)
    return make_alert(
        deployment,
        entry_id=entry.pk,
        subject=entry.subject.reference,
        frame_at=start + timedelta(seconds=seconds),
        camera=camera,
    )


@pytest.mark.django_db(transaction=True)
def test_it_sends_a_sighting_as_an_update_of_the_card(
    console_deployment, users, session_cookie, entry
):
    cookie = session_cookie(users.officer)

    async def run():
        await sync_to_async(_sighting)(console_deployment, entry, 0)
        comm = await _watching(console_deployment, cookie)  # shows alert 1
        await sync_to_async(_sighting)(console_deployment, entry, 20)
        msg = await comm.receive_json_from(timeout=WAIT)
        assert msg["type"] == "alerts" and msg["via"] == "nudge"
        assert msg["alerts"] == []
        (updated,) = msg["updated"]
        assert (updated["seq"], updated["changed_seq"], updated["sightings"]) == (1, 2, 2)
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_it_replays_a_sighting_to_a_console_that_reconnects(
    console_deployment, users, session_cookie, entry
):
    from tests.test_console_socket import _communicator

    cookie = session_cookie(users.officer)
    _sighting(console_deployment, entry, 0)
    _sighting(console_deployment, entry, 30)

    async def run():
        comm = _communicator(console_deployment, cookie)
        assert (await comm.connect(timeout=WAIT))[0]
        answer = await _resume(comm, after_seq=1)  # it had alert 1 before the sighting
        assert answer["alerts"] == [] and [a["sightings"] for a in answer["updated"]] == [2]
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_shows_who_the_subject_is_and_why_they_are_wanted(console_deployment, entry):
    alert = _sighting(console_deployment, entry, 0)
    data = console.alert_for_console(alert.pk, console_deployment.officers.first())
    assert data["subject"] == {
        "reference": entry.subject.reference,
        "display_name": "obama.jpg",
        "category": "wanted",
        "category_label": entry.get_category_display(),
        "case_reference": entry.case_reference,
    }
    # Intelligence stays in the watchlist: no legal basis, provenance or birth date.
    text = str(data)
    assert "PACE" not in text and "custody image" not in text


def test_it_names_every_camera_in_the_api(login, users, console_deployment, entry):
    from tests.factories import make_deployment

    other = make_deployment(site=console_deployment.site).cameras.first()
    console_deployment.cameras.add(other)
    _sighting(console_deployment, entry, 0)
    _sighting(console_deployment, entry, 10, camera=other)
    url = f"/api/v1/recognition/deployments/{console_deployment.pk}/alerts/?after_seq=0"
    (alert,) = login(users.officer).get(url).json()["results"]
    first = console_deployment.cameras.order_by("pk").first()
    assert alert["cameras"] == [first.name, other.name]
    assert (alert["sightings"], alert["changed_seq"]) == (2, 2)


def test_it_lists_a_seen_again_alert_after_the_cursor_in_the_api(
    login, users, console_deployment, entry
):
    _sighting(console_deployment, entry, 0)
    _sighting(console_deployment, entry, 10)
    url = f"/api/v1/recognition/deployments/{console_deployment.pk}/alerts/?after_seq=1"
    assert [a["seq"] for a in login(users.officer).get(url).json()["results"]] == [1]
