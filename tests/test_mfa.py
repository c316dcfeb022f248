"""Issue 14: multi-factor sign-in for every role — TOTP with recovery codes, enrolment at
first sign-in, enforced for pages, API and websocket, audited and throttled."""

import re

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import access, mfa
from core.models import AuditEvent, LoginThrottle
from tests.factories import make_deployment
from tests.helpers import PASSWORD, TOTP_KEY, make_user, sign_in, totp_device


def _password(client, username="cmd"):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def _code(client, code, url="mfa_verify"):
    return client.post(reverse(url), {"code": code})


def _enrol(client):
    """Enrol through the page as a person would; return the recovery codes shown."""
    page = client.get(reverse("mfa_enrol")).content.decode()
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7]+)<', page).group(1)
    response = _code(client, mfa.totp_code(mfa.hex_from_base32(secret)), "mfa_enrol")
    assert response.status_code == 200
    return re.findall(r"<li><code>([0-9a-f-]+)</code></li>", response.content.decode())


def _actions():
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


# --- enforcement ------------------------------------------------------------------------


def test_the_password_alone_leads_to_the_code_page(client, users):
    totp_device(users.command)
    response = _password(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_verify"))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_verify"))


@pytest.mark.parametrize("role", ["cmd", "auth", "contrib", "mgr", "off", "ovs", "adm"])
def test_every_role_must_pass_the_second_factor(client, users, role):
    _password(client, role)
    assert client.get(reverse("home")).status_code == 302
    _enrol(client)
    assert client.get(reverse("home")).status_code == 200


def test_a_user_without_a_device_is_sent_to_enrol(client, users):
    _password(client)
    response = client.get(reverse("mfa_verify"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_enrol"))


def test_the_api_refuses_a_session_past_only_the_password(client, users):
    _password(client)
    response = client.get("/api/v1/deployments/")
    assert response.status_code == 403
    assert "Multi-factor" in response.json()["detail"]


def test_the_console_socket_refuses_a_session_past_only_the_password(
    client, users, transactional_db
):
    from lfr_site.asgi import application
    from recognition import consumers
    from tests.fixtures_console import ORIGIN

    deployment = make_deployment(officers=[users.officer], requested_by=users.command)
    client.force_login(users.officer)  # password, no second factor
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())

    async def run():
        comm = WebsocketCommunicator(
            application, f"/ws/deployments/{deployment.pk}/alerts/", headers=[ORIGIN, cookie]
        )
        connected, code = await comm.connect(timeout=30)
        assert (connected, code) == (False, consumers.CLOSE_UNAUTHENTICATED)
        await comm.disconnect(timeout=30)

    async_to_sync(run)()


def test_a_half_signed_in_user_may_log_out(client, users):
    _password(client)
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_can_be_switched_off_outside_production(client, users, settings):
    settings.LFR_MFA_REQUIRED = False
    assert _password(client)["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


# --- enrolment and verification --------------------------------------------------------


def test_it_enrols_and_shows_ten_recovery_codes_once(client, users):
    _password(client)
    page = client.get(reverse("mfa_enrol"))
    assert b"<svg" in page.content and b"otpauth://totp/" in page.content
    codes = _enrol(client)
    assert len(codes) == len(set(codes)) == mfa.RECOVERY_CODES
    assert client.get(reverse("home")).status_code == 200
    assert TOTPDevice.objects.get(user=users.command).confirmed
    assert "mfa.enrolled" in _actions()
    # Shown once: the enrol page now only leads to the code page.
    assert client.get(reverse("mfa_enrol"))["Location"].startswith(reverse("mfa_verify"))


def test_a_wrong_enrolment_code_is_refused_and_counted(client, users):
    _password(client)
    client.get(reverse("mfa_enrol"))
    response = _code(client, "000000", "mfa_enrol")
    assert b"not right" in response.content
    assert not TOTPDevice.objects.get(user=users.command).confirmed
    row = AuditEvent.objects.get(action="mfa.failed")
    assert row.details["stage"] == "enrol" and row.outcome == "denied"


def test_it_verifies_a_totp_code_once(client, users):
    totp_device(users.command)
    _password(client)
    code = mfa.totp_code(TOTP_KEY)
    assert _code(client, code).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert AuditEvent.objects.filter(action="mfa.verified", actor_username="cmd").exists()
    # The same code cannot sign in a second session (replay).
    client.post(reverse("logout"))
    _password(client)
    assert _code(client, code).status_code == 200
    assert client.get(reverse("home")).status_code == 302


def test_a_recovery_code_works_once(client, users):
    _password(client)
    codes = _enrol(client)
    client.post(reverse("logout"))
    _password(client)
    assert _code(client, codes[0].upper()).status_code == 302
    row = AuditEvent.objects.get(action="mfa.recovery_code_used")
    assert row.details["recovery_codes_left"] == mfa.RECOVERY_CODES - 1
    client.post(reverse("logout"))
    _password(client)
    assert _code(client, codes[0]).status_code == 200
    assert client.get(reverse("home")).status_code == 302
    assert StaticToken.objects.filter(token=codes[0]).count() == 0


def test_failed_codes_lock_the_account_like_passwords(client, users, settings):
    settings.LFR_LOGIN_MAX_FAILURES = 3
    totp_device(users.command)
    _password(client)
    for _ in range(3):
        _code(client, "000000")
    assert LoginThrottle.objects.get(username="cmd").locked_until is not None
    response = _code(client, mfa.totp_code(TOTP_KEY))
    assert b"locked" in response.content
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.filter(action="mfa.failed").count() == 3
    assert AuditEvent.objects.filter(action="login.locked").count() == 1


def test_a_new_password_sign_in_does_not_reset_failed_codes(client, users, settings):
    settings.LFR_LOGIN_MAX_FAILURES = 3
    totp_device(users.command)
    for _ in range(3):
        _password(client)
        _code(client, "000000")
        client.post(reverse("logout"))
    assert LoginThrottle.objects.get(username="cmd").locked_until is not None


def test_it_refuses_a_next_address_on_another_site(client, users):
    totp_device(users.command)
    _password(client)
    response = client.post(
        reverse("mfa_verify") + "?next=https://evil.example/", {"code": mfa.totp_code(TOTP_KEY)}
    )
    assert response["Location"] == reverse("home")


# --- reset by an administrator ------------------------------------------------------------


def test_an_admin_resets_another_users_second_factor(client, users, login):
    other = sign_in(type(client)(), users.officer)  # the officer's own, verified session
    login(users.admin)
    url = reverse("mfa_reset", args=[users.officer.pk])
    response = client.post(url, {"reason": "Phone lost, ticket INC-42"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=users.officer).exists()
    assert other.get(reverse("home")).status_code == 302  # the officer's session ended
    row = AuditEvent.objects.get(action="mfa.reset")
    assert (row.actor_username, row.object_id, row.purpose) == (
        "adm",
        str(users.officer.pk),
        "Phone lost, ticket INC-42",
    )
    assert row.details["sessions_ended"] == 1


def test_an_admin_may_not_reset_their_own(client, users, login):
    login(users.admin)
    response = client.post(reverse("mfa_reset", args=[users.admin.pk]), {"reason": "mine"})
    assert response.status_code == 200
    assert b"second administrator" in response.content
    assert TOTPDevice.objects.filter(user=users.admin).exists()
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()


@pytest.mark.parametrize("who", ["oversight", "officer"])
def test_others_may_not_reset_anyones(client, users, login, who):
    totp_device(users.command)
    login(getattr(users, who))
    url = reverse("mfa_reset", args=[users.command.pk])
    assert client.post(url, {"reason": "x"}).status_code == 404
    assert TOTPDevice.objects.filter(user=users.command).exists()


def test_no_admin_site_lists_devices(client, users, login):
    login(users.admin)  # the Django admin is closed (issue 26): users are on /accounts/users/
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


# --- the demo -------------------------------------------------------------------------------


def test_seed_demo_enrols_every_demo_user_and_keeps_the_keys(db, settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    from core.demo import seed_users

    created = seed_users()
    lines = (tmp_path / "demo_credentials.txt").read_text().splitlines()
    assert len(lines) == len(created) == 8
    assert oct((tmp_path / "demo_credentials.txt").stat().st_mode & 0o777) == "0o600"
    username, _, _, secret = lines[0].split("\t")
    device = TOTPDevice.objects.get(user__username=username)
    assert device.confirmed and mfa.hex_from_base32(secret) == device.key
    call_command("totp", username)
    assert capsys.readouterr().out.splitlines()[0] == mfa.totp_code(device.key)


def test_the_totp_command_is_refused_in_production(db, settings):
    from django.core.management import CommandError

    settings.PRODUCTION = True
    make_user("someone", access.OFFICER)
    with pytest.raises(CommandError, match="production"):
        call_command("totp", "someone")


def test_reset_ends_sessions_but_not_others(client, users):
    sign_in(client, users.command)
    assert mfa._end_sessions(users.officer) == 0
    assert Session.objects.count() == 1


def test_no_endpoint_answers_a_session_past_only_the_password(client, users):
    """Every page and API operation the access matrix knows, as a half-signed-in admin."""
    from types import SimpleNamespace

    from tests.test_access_matrix import EXPECT, PUBLIC, _url

    totp_device(users.admin)
    client.force_login(users.admin)  # password only
    fake = SimpleNamespace(pk=1, reference="REF-1")
    checked = 0
    for key, spec in EXPECT.items():
        if spec.rule == PUBLIC or key in {"mfa_verify", "mfa_enrol"}:
            continue  # public pages answer anyone; these two are where it is sent
        method, url = _url(key, spec, fake if spec.obj else None)
        response = client.generic(method, url)
        if url.startswith("/api/"):
            assert response.status_code == 403, (key, response.status_code)
        else:
            assert response.status_code == 302, (key, response.status_code)
            assert response["Location"].startswith(reverse("mfa_verify")), key
        checked += 1
    assert checked > 80


def test_a_demo_users_new_key_replaces_the_old_in_the_credentials_file(
    db, settings, tmp_path, client, django_capture_on_commit_callbacks
):
    # Issue 26.6: after a reset and a new enrolment the file kept the dead key.
    settings.VAR_DIR = tmp_path
    from core.demo import seed_users

    seed_users()
    path = tmp_path / "demo_credentials.txt"
    old = {line.split("\t")[0]: line.split("\t")[3] for line in path.read_text().splitlines()}
    User = get_user_model()
    officer, admin = User.objects.get(username="officer"), User.objects.get(username="admin")
    mfa.mfa_reset(user=officer, by=admin, reason="Lost phone")
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        _enrol(client)
    new = {line.split("\t")[0]: line.split("\t")[3] for line in path.read_text().splitlines()}
    device = TOTPDevice.objects.get(user=officer)
    assert new["officer"] != old["officer"]
    assert mfa.hex_from_base32(new["officer"]) == device.key
    assert {k: v for k, v in new.items() if k != "officer"} == {
        k: v for k, v in old.items() if k != "officer"
    }
    assert oct(path.stat().st_mode & 0o777) == "0o600"
