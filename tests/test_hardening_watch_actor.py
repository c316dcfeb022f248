"""Issue 14.9 (rest): the socket's `watch_ended` audit row names the officer whose socket
was closed, even though logging out or being disabled is what closed it."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async as sync_to_async
from django.db import connections

from core.models import AuditEvent
from recognition import consumers
from tests.test_console_socket import _closes, _tick, _watching

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_reader_connection():
    yield
    consumers.READER.submit(connections.close_all).result()


def _ended_by(change, console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)

    async def run():
        comm = await _watching(console_deployment, cookie)
        await sync_to_async(change)()
        await _tick(console_deployment)
        assert (await _closes(comm))["code"] == consumers.CLOSE_FORBIDDEN

    async_to_sync(run)()
    return AuditEvent.objects.get(action="deployment.watch_ended")


def test_it_names_the_officer_who_logged_out(console_deployment, users, session_cookie, client):
    row = _ended_by(client.logout, console_deployment, users, session_cookie)
    assert row.actor_username == users.officer.username


def test_it_names_the_officer_who_was_disabled(console_deployment, users, session_cookie):
    def disable():
        users.officer.is_active = False
        users.officer.save()

    row = _ended_by(disable, console_deployment, users, session_cookie)
    assert row.actor_username == users.officer.username
    assert row.object_id == str(console_deployment.pk)
