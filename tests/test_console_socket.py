"""The alert websocket, driven through the real ASGI app (origin check, session auth).

No test here waits on the clock: the wall-clock ticker is off, and a tick is injected as
the `console.tick` group message, like a nudge (house rule 11).
"""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import OperationalError, connections

from core.models import AuditEvent
from lfr_site.asgi import application
from recognition import consumers
from recognition.services.alerts import alert_group
from tests.factories import make_deployment
from tests.fixtures_console import ORIGIN, make_alert

pytestmark = pytest.mark.django_db(transaction=True)

# A deadline, never a delay: each wait ends as soon as its frame arrives. Channels'
# defaults (1 s for connect and disconnect) fail on a loaded machine.
WAIT = 30


@pytest.fixture(autouse=True)
def _close_reader_connection():
    # The consumers' reader thread keeps its connection (CONN_MAX_AGE); close it, or
    # PostgreSQL refuses to drop the test database at the end.
    yield
    consumers.READER.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def _no_wall_clock(monkeypatch):
    monkeypatch.setattr(consumers, "TICK_SECONDS", None)


async def _tick(deployment):
    """What the socket's ticker does on its beat, injected."""
    await get_channel_layer().group_send(alert_group(deployment.pk), {"type": "console.tick"})


async def _resume(comm, after_seq=0) -> dict:
    """Resume and return the answer: nothing is sent before it, so it is the first frame."""
    await comm.send_json_to({"type": "resume", "after_seq": after_seq})
    answer = await comm.receive_json_from(timeout=WAIT)
    assert answer["type"] == "alerts" and answer["via"] == "resume", answer
    return answer


async def _watching(deployment, cookie):
    """A connected socket that has resumed from 0 and had its (empty) answer."""
    comm = _communicator(deployment, cookie)
    assert (await comm.connect(timeout=WAIT))[0]
    await _resume(comm)
    return comm


def _path(deployment):
    return f"/ws/deployments/{deployment.pk}/alerts/"


def _communicator(deployment, *headers):
    return WebsocketCommunicator(application, _path(deployment), headers=[ORIGIN, *headers])


async def _drain_alerts(comm, want: int, timeout=WAIT) -> list[int]:
    """Seqs received until `want` alerts arrived (ticks ignored)."""
    seqs = []
    while len(seqs) < want:
        msg = await comm.receive_json_from(timeout=timeout)
        if msg["type"] == "alerts":
            seqs += [a["seq"] for a in msg["alerts"]]
    return seqs


async def _no_more_alerts(comm, deployment, last_seq: int) -> bool:
    """True when an injected tick finds nothing past `last_seq` (empty nudges ignored)."""
    await _tick(deployment)
    msg = await comm.receive_json_from(timeout=WAIT)
    while msg["type"] == "nudge":
        msg = await comm.receive_json_from(timeout=WAIT)
    return msg == {"type": "tick", "last_seq": last_seq}


def test_it_refuses_anonymous_sockets(console_deployment):
    async def run():
        comm = _communicator(console_deployment)
        connected, code = await comm.connect(timeout=WAIT)
        assert (connected, code) == (False, consumers.CLOSE_UNAUTHENTICATED)
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_refuses_a_foreign_origin(console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)

    async def run():
        comm = WebsocketCommunicator(
            application, _path(console_deployment), headers=[(b"origin", b"http://evil"), cookie]
        )
        connected, _ = await comm.connect(timeout=WAIT)
        assert not connected

    async_to_sync(run)()


def test_it_refuses_an_officer_of_another_deployment(console_deployment, users, session_cookie):
    make_deployment(officers=[users.officer2], requested_by=users.command)
    cookie = session_cookie(users.officer2)

    async def run():
        comm = _communicator(console_deployment, cookie)
        connected, code = await comm.connect(timeout=WAIT)
        assert (connected, code) == (False, consumers.CLOSE_FORBIDDEN)

    async_to_sync(run)()
    denied = AuditEvent.objects.filter(action="deployment.watch", outcome="denied").get()
    assert denied.actor_id == users.officer2.pk


def test_it_accepts_the_assigned_officer_and_audits_it(console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)

    async def run():
        comm = _communicator(console_deployment, cookie)
        connected, _ = await comm.connect(timeout=WAIT)
        assert connected
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()
    assert AuditEvent.objects.filter(
        action="deployment.watch", outcome="allowed", actor_id=users.officer.pk
    ).exists()


def test_it_lets_oversight_watch_read_only(console_deployment, users, session_cookie):
    make_alert(console_deployment)
    cookie = session_cookie(users.oversight)

    async def run():
        comm = _communicator(console_deployment, cookie)
        connected, _ = await comm.connect(timeout=WAIT)
        assert connected
        await comm.send_json_to({"type": "resume", "after_seq": 0})
        assert await _drain_alerts(comm, 1) == [1]
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_refuses_users_with_no_role(console_deployment, users, session_cookie):
    cookie = session_cookie(users.nobody)

    async def run():
        connected, code = await _communicator(console_deployment, cookie).connect(timeout=WAIT)
        assert (connected, code) == (False, consumers.CLOSE_FORBIDDEN)

    async_to_sync(run)()


def test_it_streams_a_new_alert_on_the_nudge(console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)

    async def run():
        comm = _communicator(console_deployment, cookie)
        assert (await comm.connect(timeout=WAIT))[0]
        answered = await _resume(comm)
        assert answered == {
            "type": "alerts",
            "via": "resume",
            "alerts": [],
            "updated": [],
            "decided": [],
        }
        await sync_to_async(make_alert)(console_deployment)
        msg = await comm.receive_json_from(timeout=WAIT)
        assert msg["type"] == "alerts" and msg["via"] == "nudge"
        (alert,) = msg["alerts"]
        assert alert["seq"] == 1 and alert["decision"] is None
        purpose = f"purpose=deployment+{console_deployment.reference}+live+monitoring"
        assert alert["crop_url"].endswith(purpose)
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_replays_exactly_the_missed_alerts_after_reconnect(
    console_deployment, users, session_cookie
):
    cookie = session_cookie(users.officer)

    async def run():
        comm = _communicator(console_deployment, cookie)
        assert (await comm.connect(timeout=WAIT))[0]
        await comm.send_json_to({"type": "resume", "after_seq": 0})
        for _ in range(2):
            await sync_to_async(make_alert)(console_deployment)
        assert await _drain_alerts(comm, 2) == [1, 2]
        await comm.disconnect(timeout=WAIT)
        # Raised while the officer is away; one without any nudge at all.
        for nudge in (True, True, False):
            await sync_to_async(make_alert)(console_deployment, nudge=nudge)
        comm = _communicator(console_deployment, cookie)
        assert (await comm.connect(timeout=WAIT))[0]
        await comm.send_json_to({"type": "resume", "after_seq": 2})
        assert await _drain_alerts(comm, 3) == [3, 4, 5]
        assert await _no_more_alerts(comm, console_deployment, 5)
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_heals_a_dropped_nudge_with_the_next_one(console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)

    async def run():
        comm = _communicator(console_deployment, cookie)
        assert (await comm.connect(timeout=WAIT))[0]
        await comm.send_json_to({"type": "resume", "after_seq": 0})
        await sync_to_async(make_alert)(console_deployment, nudge=False)  # "dropped"
        await sync_to_async(make_alert)(console_deployment)
        assert await _drain_alerts(comm, 2) == [1, 2]
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_heals_a_dropped_nudge_on_the_tick(console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)

    async def run():
        comm = await _watching(console_deployment, cookie)
        await sync_to_async(make_alert)(console_deployment, nudge=False)
        await _tick(console_deployment)
        msg = await comm.receive_json_from(timeout=WAIT)
        assert msg["via"] == "tick" and [a["seq"] for a in msg["alerts"]] == [1]
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_sends_nothing_before_the_resume(console_deployment, users, session_cookie):
    make_alert(console_deployment, nudge=False)
    cookie = session_cookie(users.officer)

    async def run():
        comm = _communicator(console_deployment, cookie)
        assert (await comm.connect(timeout=WAIT))[0]
        # A tick and a nudge before the page says where it stands: neither is answered,
        # so the first frame is the resume's answer whatever order they are handled in.
        await _tick(console_deployment)
        await sync_to_async(make_alert)(console_deployment)
        answer = await _resume(comm)
        assert [a["seq"] for a in answer["alerts"]] in ([1], [1, 2])
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_starts_its_own_ticker_after_the_resume(
    console_deployment, users, session_cookie, monkeypatch
):
    monkeypatch.setattr(consumers, "TICK_SECONDS", 0.01)
    cookie = session_cookie(users.officer)

    async def run():
        comm = await _watching(console_deployment, cookie)
        await sync_to_async(make_alert)(console_deployment, nudge=False)
        msg = await comm.receive_json_from(timeout=WAIT)
        while msg["type"] == "tick":  # ticks that ran before the alert committed
            msg = await comm.receive_json_from(timeout=WAIT)
        assert msg["via"] == "tick" and [a["seq"] for a in msg["alerts"]] == [1]
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_says_so_when_the_database_fails_and_carries_on(
    console_deployment, users, session_cookie, monkeypatch
):
    cookie = session_cookie(users.officer)
    real_poll, failing = consumers.console.poll_many, threading.Event()

    def poll_many(asks):
        if failing.is_set():
            raise OperationalError("database is locked")
        return real_poll(asks)

    monkeypatch.setattr(consumers.console, "poll_many", poll_many)

    async def run():
        comm = await _watching(console_deployment, cookie)
        failing.set()
        await sync_to_async(make_alert)(console_deployment)
        msg = await comm.receive_json_from(timeout=WAIT)
        assert msg == {"type": "trouble", "via": "nudge", "last_seq": 0}
        failing.clear()
        await _tick(console_deployment)
        msg = await comm.receive_json_from(timeout=WAIT)
        assert msg["via"] == "tick" and [a["seq"] for a in msg["alerts"]] == [1]
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def _closes(comm):
    async def wait():
        while True:
            msg = await comm.receive_output(timeout=WAIT)
            if msg["type"] == "websocket.close":
                return msg

    return wait()


def _assert_closed_after(change, console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)

    async def run():
        comm = await _watching(console_deployment, cookie)
        await sync_to_async(change)()
        await _tick(console_deployment)
        closed = await _closes(comm)
        assert closed["code"] == consumers.CLOSE_FORBIDDEN

    async_to_sync(run)()
    assert AuditEvent.objects.filter(action="deployment.watch_ended").exists()


def test_it_closes_the_socket_of_a_disabled_user(console_deployment, users, session_cookie):
    def disable():
        users.officer.is_active = False
        users.officer.save()

    _assert_closed_after(disable, console_deployment, users, session_cookie)


def test_it_closes_the_socket_of_an_unassigned_officer(console_deployment, users, session_cookie):
    def unassign():
        console_deployment.officers.remove(users.officer)

    _assert_closed_after(unassign, console_deployment, users, session_cookie)


def test_it_closes_the_socket_after_logout(console_deployment, users, session_cookie, client):
    def logout():
        client.post("/accounts/logout/")

    _assert_closed_after(logout, console_deployment, users, session_cookie)


def test_it_tells_other_consoles_of_a_decision_at_once(console_deployment, users, session_cookie):
    from recognition.services.adjudication import adjudication_record

    console_deployment.officers.add(users.officer2)
    make_alert(console_deployment, nudge=False)
    cookie = session_cookie(users.officer2)

    async def run():
        comm = _communicator(console_deployment, cookie)
        assert (await comm.connect(timeout=WAIT))[0]
        await comm.send_json_to({"type": "resume", "after_seq": 0})
        assert await _drain_alerts(comm, 1) == [1]
        alert = await sync_to_async(console_deployment.alerts.get)()
        await sync_to_async(adjudication_record)(
            alert=alert, by=users.officer, is_true_match=False, confirmed=True, outcome="no_action"
        )
        msg = await comm.receive_json_from(timeout=WAIT)
        assert msg["via"] == "nudge" and msg["alerts"] == []
        (decided,) = msg["decided"]
        assert decided["seq"] == 1 and decided["decision"]["is_true_match"] is False
        await comm.disconnect(timeout=WAIT)

    async_to_sync(run)()


def test_it_rechecks_permission_on_every_event(console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)

    async def run():
        comm = await _watching(console_deployment, cookie)
        await sync_to_async(console_deployment.officers.remove)(users.officer)
        await sync_to_async(make_alert)(console_deployment)
        closed = await _closes(comm)
        assert closed["code"] == consumers.CLOSE_FORBIDDEN

    async_to_sync(run)()


def test_it_keeps_answering_when_a_socket_goes_away_mid_question(monkeypatch):
    asked, release = threading.Event(), threading.Event()

    def slow_poll(asks):
        asked.set()
        release.wait(WAIT)
        return [{"alerts": [], "decided": []} for _ in asks]

    monkeypatch.setattr(consumers.console, "poll_many", slow_poll)

    async def run():
        gone = asyncio.ensure_future(consumers._ask(consumers.console.Ask("a", 1)))
        stays = asyncio.ensure_future(consumers._ask(consumers.console.Ask("b", 1)))
        # Both questions are in the reader's hands before one of them goes away.
        assert await asyncio.to_thread(asked.wait, WAIT)
        gone.cancel()
        release.set()
        assert await asyncio.wait_for(stays, WAIT) == {"alerts": [], "decided": []}
        # And the next question is answered too: the batcher did not die.
        assert await asyncio.wait_for(consumers._ask(consumers.console.Ask("c", 1)), WAIT)

    async_to_sync(run)()


@pytest.mark.parametrize("change", ["deactivate", "role"])
def test_it_closes_the_socket_at_once_when_an_administrator_changes_the_user(
    console_deployment, users, session_cookie, change
):
    """Issue 26: no tick is injected and the wall-clock ticker is off: the user service's
    own signal rechecks the consoles."""
    from core import users as user_admin

    cookie = session_cookie(users.officer)

    def act():
        if change == "deactivate":
            user_admin.user_deactivate(by=users.admin, user=users.officer, reason="Left")
        else:
            user_admin.user_role_change(by=users.admin, user=users.officer, role="command_staff")

    async def run():
        comm = await _watching(console_deployment, cookie)
        await sync_to_async(act)()
        closed = await _closes(comm)
        assert closed["code"] == consumers.CLOSE_FORBIDDEN

    async_to_sync(run)()
