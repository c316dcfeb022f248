"""Issue 24.6 (the non-camera rest): the session key at the second factor, a lockout a
stranger cannot turn against a live deployment's officers, an audited /admin/login/,
TOTP sync that cannot drift forward, and a contributor who cannot expire an entry alone."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp import models as totp_models

from core.mfa import totp_code
from core.models import AuditEvent
from tests import fixtures_watchlists as fx
from tests.helpers import PASSWORD, TOTP_KEY, totp_device
from watchlists import services as watchlist_services

STRANGER, OFFICE = "203.0.113.9", "198.51.100.2"
NOW = 1_800_000_015.0  # a fixed moment mid-step: no test here waits on the clock


@pytest.fixture
def frozen_totp(monkeypatch):
    monkeypatch.setattr(totp_models, "time", SimpleNamespace(time=lambda: NOW))
    return int(NOW) // 30


def _password(client, username, password=PASSWORD, addr=OFFICE):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=addr
    )


def _code(client, step, addr=OFFICE):
    return client.post(
        reverse("mfa_verify"), {"code": totp_code(TOTP_KEY, step=step)}, REMOTE_ADDR=addr
    )


def _signed_in(client):
    return "_auth_user_id" in client.session and client.get(reverse("home")).status_code == 200


def test_the_session_key_changes_when_the_second_factor_passes(users, frozen_totp):
    totp_device(users.officer)
    client = Client()
    assert _password(client, "off").status_code == 302
    half = client.cookies["sessionid"].value
    assert _code(client, frozen_totp).status_code == 302
    assert client.cookies["sessionid"].value != half
    stale = Client()
    stale.cookies["sessionid"] = half  # whoever saw the key before the second factor
    assert stale.get(reverse("home")).status_code == 302


def _full_sign_in(client, username, step):
    assert _password(client, username).status_code == 302
    assert _code(client, step).status_code == 302
    assert _signed_in(client)
    client.post(reverse("logout"))


def _stranger_locks_out(username, settings):
    stranger = Client()
    for _ in range(settings.LFR_LOGIN_MAX_FAILURES):
        _password(stranger, username, "wrong", addr=STRANGER)
    return stranger


def test_an_officer_on_a_known_device_signs_in_while_a_stranger_locked_the_account(
    users, frozen_totp, settings
):
    totp_device(users.officer)
    console = Client()
    _full_sign_in(console, "off", frozen_totp)
    _stranger_locks_out("off", settings)
    assert _password(console, "off").status_code == 302
    assert _code(console, frozen_totp + 1).status_code == 302 and _signed_in(console)


def test_the_lock_still_holds_for_an_unknown_device(users, frozen_totp, settings):
    totp_device(users.officer)
    stranger = _stranger_locks_out("off", settings)
    assert b"locked" in _password(stranger, "off", addr=STRANGER).content
    assert b"locked" in _password(Client(), "off").content  # right password, new browser


def test_a_known_device_that_keeps_failing_loses_its_pass(users, frozen_totp, settings):
    totp_device(users.officer)
    console = Client()
    _full_sign_in(console, "off", frozen_totp)
    for _ in range(settings.LFR_LOGIN_MAX_FAILURES):
        _password(console, "off", "wrong")
    assert b"locked" in _password(console, "off").content


def test_a_known_device_of_one_officer_is_no_pass_for_another(users, frozen_totp, settings):
    totp_device(users.officer)
    console = Client()
    _full_sign_in(console, "off", frozen_totp)
    _stranger_locks_out("off2", settings)
    assert b"locked" in _password(console, "off2").content


def test_the_django_admin_login_is_closed(users):
    # Once audited here; the Django admin is now closed (the Users page replaced it), so
    # no login form exists outside the audited one.
    response = Client().post("/admin/login/", {"username": "adm", "password": PASSWORD})
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="login.succeeded").exists()


def test_a_normal_login_is_audited_once(users):
    assert _password(Client(), "cmd").status_code == 302
    assert AuditEvent.objects.filter(action="login.succeeded").count() == 1


def test_totp_sync_does_not_let_the_window_drift_forward(users, frozen_totp):
    device = totp_device(users.officer)
    assert device.verify_token(totp_code(TOTP_KEY, step=frozen_totp + 1))  # clock skew: ok
    device.refresh_from_db()
    assert device.drift == 0
    assert not device.verify_token(totp_code(TOTP_KEY, step=frozen_totp + 2))


def test_a_contributor_cannot_expire_their_own_approved_entry(users):
    entry = fx.approved_entry(users)
    with pytest.raises(PermissionDenied):
        watchlist_services.entry_end(
            entry_id=entry.pk, by=users.contributor, withdraw=False, reason="done with it"
        )
    entry.refresh_from_db()
    assert entry.state == "approved"


def test_a_manager_expires_an_approved_entry(users):
    entry = fx.approved_entry(users)
    entry = watchlist_services.entry_end(
        entry_id=entry.pk, by=users.manager, withdraw=False, reason="Case closed"
    )
    assert entry.state == "expired"


def test_an_officer_cannot_expire_an_entry(users):
    from django.http import Http404

    entry = fx.approved_entry(users)
    with pytest.raises(Http404):
        watchlist_services.entry_end(
            entry_id=entry.pk, by=users.officer, withdraw=False, reason="x"
        )


def test_a_known_device_passes_a_lock_on_its_address(users, frozen_totp, settings):
    # A stranger behind the same NAT address as the control room fails across names.
    settings.LFR_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    totp_device(users.officer)
    console = Client()
    _full_sign_in(console, "off", frozen_totp)
    for name in ("ann", "bob", "cat"):
        _password(Client(), name, "wrong")
    assert b"from your address" in _password(Client(), "cmd").content
    assert _password(console, "off").status_code == 302
