"""The idle timeout holds without writing the session row on every request."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.helpers import sign_in

T0 = timezone.now()


@pytest.fixture
def clock():
    """Patch the one clock both the session store and the middleware read."""
    now = {"at": T0}
    with mock.patch("django.utils.timezone.now", lambda: now["at"]):
        yield now


def _session_writes(queries):
    return [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]


def _home(client):
    return client.get(reverse("home"))


def test_it_does_not_save_the_session_on_every_request(settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.SESSION_COOKIE_AGE == 30 * 60


def test_it_writes_no_session_row_on_an_ordinary_get(client, users, clock):
    sign_in(client, users.officer)
    _home(client)  # the first request stamps the session
    row = Session.objects.get()
    clock["at"] = T0 + timedelta(seconds=20)
    with CaptureQueriesContext(connection) as queries:
        assert _home(client).status_code == 200
    assert _session_writes(queries) == []
    again = Session.objects.get()
    assert (again.session_data, again.expire_date) == (row.session_data, row.expire_date)


def test_it_refreshes_the_session_once_the_last_refresh_is_a_minute_old(client, users, clock):
    sign_in(client, users.officer)
    _home(client)
    clock["at"] = T0 + timedelta(seconds=61)
    with CaptureQueriesContext(connection) as queries:
        _home(client)
    assert len(_session_writes(queries)) == 1
    assert Session.objects.get().expire_date == clock["at"] + timedelta(minutes=30)


def test_it_keeps_an_active_session_past_the_idle_timeout(client, users, clock):
    sign_in(client, users.officer)
    for minutes in (10, 20, 30, 40, 50, 60):
        clock["at"] = T0 + timedelta(minutes=minutes)
        assert _home(client).status_code == 200, minutes


def test_it_expires_an_idle_session_after_the_idle_minutes(client, users, clock):
    sign_in(client, users.officer)
    _home(client)
    clock["at"] = T0 + timedelta(minutes=30, seconds=1)
    response = _home(client)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_it_never_lets_a_session_outlive_the_idle_minutes_since_its_last_request(
    client, users, clock
):
    """Refreshed at most a minute late, the session ends at most a minute early, never late."""
    sign_in(client, users.officer)
    _home(client)
    clock["at"] = T0 + timedelta(seconds=50)  # active, but no refresh yet
    _home(client)
    clock["at"] = T0 + timedelta(seconds=50, minutes=30)
    assert _home(client).status_code == 302


def test_it_creates_no_session_for_an_anonymous_visitor(client, db):
    client.get(reverse("login"))
    assert Session.objects.count() == 0
