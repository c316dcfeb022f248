"""The alert websocket in the access matrix: every role × own/other deployment × anonymous.

The HTTP matrix (tests/test_access_matrix.py) walks the URL conf; the socket is routed
apart (recognition/routing.py), so it is walked here. The expectations are written out
from DOMAIN's roles, not derived from core.access: only the officers assigned to a
deployment and oversight (read-only) may watch it; everyone else is closed with 4403,
anonymous with 4401, and each refusal leaves an audit row.
"""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import connections

from core.models import AuditEvent
from lfr_site.asgi import application
from recognition import consumers
from recognition.routing import websocket_urlpatterns
from tests.factories import make_deployment
from tests.fixtures_console import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 30
ACCEPT = "accept"
FORBIDDEN = consumers.CLOSE_FORBIDDEN

# role -> (deployment A, deployment B): users.officer is assigned to A, users.officer2 to B.
EXPECTED = {
    "command": (FORBIDDEN, FORBIDDEN),
    "authoriser": (FORBIDDEN, FORBIDDEN),
    "contributor": (FORBIDDEN, FORBIDDEN),
    "manager": (FORBIDDEN, FORBIDDEN),
    "officer": (ACCEPT, FORBIDDEN),
    "officer2": (FORBIDDEN, ACCEPT),
    "oversight": (ACCEPT, ACCEPT),
    "admin": (FORBIDDEN, FORBIDDEN),
    "nobody": (FORBIDDEN, FORBIDDEN),
}


@pytest.fixture(autouse=True)
def _close_reader_connection(monkeypatch):
    monkeypatch.setattr(consumers, "TICK_SECONDS", None)
    yield
    consumers.READER.submit(connections.close_all).result()


def test_the_socket_is_the_one_route_the_matrix_walks_here():
    # A new socket route must be added to this matrix, or this fails.
    assert [str(p.pattern) for p in websocket_urlpatterns] == [
        "ws/deployments/<int:deployment_id>/alerts/"
    ]


def _connect(deployment, *headers):
    async def run():
        comm = WebsocketCommunicator(
            application, f"/ws/deployments/{deployment.pk}/alerts/", headers=[ORIGIN, *headers]
        )
        connected, code = await comm.connect(timeout=WAIT)
        if connected:
            await comm.disconnect(timeout=WAIT)
            return ACCEPT
        return code

    return async_to_sync(run)()


def test_every_role_meets_the_rule_for_the_socket(users, session_cookie):
    a = make_deployment(officers=[users.officer], requested_by=users.command)
    b = make_deployment(officers=[users.officer2], requested_by=users.command2)
    got, cases = {}, 0
    for role, expected in EXPECTED.items():
        cookie = session_cookie(getattr(users, role))
        got[role] = (_connect(a, cookie), _connect(b, cookie))
        assert got[role] == expected, role
        cases += 2
    assert _connect(a) == consumers.CLOSE_UNAUTHENTICATED
    cases += 1
    denied = AuditEvent.objects.filter(action="deployment.watch", outcome="denied").count()
    refusals = sum(r == FORBIDDEN for pair in got.values() for r in pair)
    assert denied == refusals
    print(f"\nsocket matrix: {cases} cases ({refusals} refused with 4403, 1 with 4401)")
