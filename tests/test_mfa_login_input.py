"""Issue 14.7 (login case): a username over 150 characters is refused clearly, counted by
the login throttle and audited, like any other failed login."""

from django.urls import reverse

from core.models import AuditEvent, LoginAddressThrottle

LONG = "a" * 151


def _post(client, username, addr="203.0.113.9"):
    return client.post(
        reverse("login"), {"username": username, "password": "wrong"}, REMOTE_ADDR=addr
    )


def test_it_refuses_an_overlong_username_with_a_clear_error(client, db):
    response = _post(client, LONG)
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_it_counts_an_overlong_username_against_the_address(client, db, settings):
    settings.LFR_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for _ in range(3):
        _post(client, LONG + "x" * 5000)
    assert LoginAddressThrottle.objects.get(address="203.0.113.9").locked_until is not None


def test_it_audits_an_overlong_username(client, db):
    _post(client, LONG)
    row = AuditEvent.objects.get(action="login.failed")
    assert row.object_id == LONG[:80]
    assert row.details["username_length"] == 151
