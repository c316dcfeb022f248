"""Issue 14.9 (part): the websocket Origin must match scheme, host and port."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import connections

from lfr_site.asgi import application
from recognition import consumers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_reader_connection():
    yield
    consumers.READER.submit(connections.close_all).result()


def _accepted(deployment, *headers) -> bool:
    async def run():
        path = f"/ws/deployments/{deployment.pk}/alerts/"
        communicator = WebsocketCommunicator(application, path, headers=list(headers))
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    return async_to_sync(run)()


@pytest.mark.parametrize("origin", [b"https://testserver", b"http://testserver:8444"])
def test_it_refuses_an_origin_of_another_scheme_or_port(
    console_deployment, users, session_cookie, origin
):
    cookie = session_cookie(users.officer)
    assert not _accepted(console_deployment, (b"origin", origin), (b"host", b"testserver"), cookie)


def test_it_refuses_a_port_the_handshake_was_not_made_on(console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)
    origin, host = (b"origin", b"http://testserver:9000"), (b"host", b"testserver:8000")
    assert not _accepted(console_deployment, origin, host, cookie)


def test_it_accepts_its_own_origin(console_deployment, users, session_cookie):
    cookie = session_cookie(users.officer)
    origin, host = (b"origin", b"http://testserver:8000"), (b"host", b"testserver:8000")
    assert _accepted(console_deployment, origin, host, cookie)
