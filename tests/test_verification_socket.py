"""Two-person verification over the console's websocket: each officer's socket is told
of a verification at once, and the other officer's is not told what it was."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client
from django.utils import timezone

from deployments.models import Deployment
from lfr_site.asgi import application
from recognition import consumers
from recognition.models import Verification
from recognition.services.verification import verification_record
from tests.factories import make_deployment
from tests.fixtures_console import ORIGIN, make_alert
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 30  # a deadline, never a delay


@pytest.fixture(autouse=True)
def _quiet_sockets(monkeypatch):
    monkeypatch.setattr(consumers, "TICK_SECONDS", None)  # ticks are injected, if at all
    yield
    consumers.READER.submit(connections.close_all).result()


def _cookie(user) -> tuple[bytes, bytes]:
    """A session of its own per officer: two officers watch at once."""
    client = sign_in(Client(), user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def _open(deployment, cookie):
    comm = WebsocketCommunicator(
        application, f"/ws/deployments/{deployment.pk}/alerts/", headers=[ORIGIN, cookie]
    )
    assert (await comm.connect(timeout=WAIT))[0]
    await comm.send_json_to({"type": "resume", "after_seq": 0})
    first = await comm.receive_json_from(timeout=WAIT)
    assert [a["seq"] for a in first["alerts"]] == [1]
    return comm


def test_each_socket_sees_only_its_own_verification(users):
    deployment = make_deployment(
        officers=[users.officer, users.officer2], verification=Deployment.Verification.TWO
    )
    make_alert(deployment, nudge=False)
    cookie_a, cookie_b = _cookie(users.officer), _cookie(users.officer2)

    async def run():
        a, b = await _open(deployment, cookie_a), await _open(deployment, cookie_b)
        alert = await sync_to_async(deployment.alerts.get)()
        await sync_to_async(verification_record)(alert=alert, by=users.officer, is_true_match=True)
        (to_a,) = (await a.receive_json_from(timeout=WAIT))["decided"]
        (to_b,) = (await b.receive_json_from(timeout=WAIT))["decided"]
        assert to_a["verification"]["mine"]["is_true_match"] is True
        assert to_b["verification"]["state"] == "awaiting_second"
        assert to_b["verification"]["mine"] is None and to_b["verification"]["verifications"] == []
        # The second officer records theirs: now both see both.
        await sync_to_async(verification_record)(
            alert=alert, by=users.officer2, is_true_match=False
        )
        for comm in (a, b):
            (card,) = (await comm.receive_json_from(timeout=WAIT))["decided"]
            assert card["verification"]["state"] == "disagreed"
            assert len(card["verification"]["verifications"]) == 2
            await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_a_reconnecting_console_catches_up_on_a_verification(users, session_cookie):
    deployment = make_deployment(
        officers=[users.officer, users.officer2], verification=Deployment.Verification.TWO
    )
    alert = make_alert(deployment, nudge=False)
    cookie = session_cookie(users.officer2)
    first = verification_record(alert=alert, by=users.officer2, is_true_match=True)
    second = verification_record(alert=alert, by=users.officer, is_true_match=True)
    # Long ago: only the cursor, not the recent-decisions window, can bring it back.
    Verification.objects.update(at=timezone.now() - timedelta(hours=1))

    async def resume(after_verification):
        comm = WebsocketCommunicator(
            application, f"/ws/deployments/{deployment.pk}/alerts/", headers=[ORIGIN, cookie]
        )
        assert (await comm.connect(timeout=WAIT))[0]
        await comm.send_json_to(
            {"type": "resume", "after_seq": 1, "after_verification": after_verification}
        )
        answer = await comm.receive_json_from(timeout=WAIT)
        await comm.disconnect(timeout=WAIT)
        return [c["verification"]["state"] for c in answer["decided"]]

    # Held the card with the first verification: the second is past its cursor.
    assert async_to_sync(resume)(first.pk) == ["verified"]
    assert async_to_sync(resume)(second.pk) == []
