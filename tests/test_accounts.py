import pytest
from django.urls import reverse

from core.mfa import totp_code
from core.models import AuditEvent, LoginThrottle
from tests.helpers import PASSWORD, TOTP_KEY, sign_in, totp_device


def test_it_serves_the_login_page(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in" in response.content


def test_it_redirects_anonymous_users_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_logs_in_and_audits(client, users):
    response = client.post(reverse("login"), {"username": "cmd", "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="login.succeeded", actor_username="cmd").exists()


@pytest.mark.django_db
def test_it_locks_the_account_after_repeated_failures(client, users, settings):
    settings.LFR_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        response = client.post(reverse("login"), {"username": "cmd", "password": "wrong"})
        assert response.status_code == 200
    assert b"locked" in response.content
    assert LoginThrottle.objects.get(username="cmd").locked_until is not None
    # Even the right password is refused while locked, and that refusal is audited too.
    response = client.post(reverse("login"), {"username": "cmd", "password": PASSWORD})
    assert response.status_code == 200
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.failed", outcome="denied").count() == 3
    assert AuditEvent.objects.filter(action="login.locked", outcome="denied").count() == 1


def test_it_resets_failures_after_a_successful_login(client, users):
    totp_device(users.command)
    client.post(reverse("login"), {"username": "cmd", "password": "wrong"})
    client.post(reverse("login"), {"username": "cmd", "password": PASSWORD})
    # The password alone does not: failed second-factor codes must keep counting.
    assert LoginThrottle.objects.filter(username="cmd").exists()
    client.post(reverse("mfa_verify"), {"code": totp_code(TOTP_KEY)})
    assert not LoginThrottle.objects.filter(username="cmd").exists()


# The idle timeout is tested in test_core_sessions.py.


def test_it_audits_logout(client, users):
    sign_in(client, users.officer)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="logout", actor_username="off").exists()
