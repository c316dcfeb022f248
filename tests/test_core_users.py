"""Issue 26: users and roles administered in the product, audited, through core.access."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import access, tokens
from core.models import AuditEvent
from tests.helpers import make_user, sign_in, totp_device

User = get_user_model()
PAGE_SIZE = 25


def test_it_lists_people_not_token_service_users(client, users):
    tokens.api_token_create(by=users.admin, name="Records system", role=access.OVERSIGHT)
    sign_in(client, users.admin)
    page = client.get(reverse("users"))
    assert page.status_code == 200
    assert b"cmd2" in page.content and b"api-" not in page.content


def test_it_searches_and_paginates(client, users):
    for n in range(PAGE_SIZE + 3):
        make_user(f"pc{n:03d}", access.OFFICER)
    sign_in(client, users.admin)
    first = client.get(reverse("users"), {"q": "pc"})
    assert first.content.count(b'data-testid="user-row"') == PAGE_SIZE
    second = client.get(reverse("users"), {"q": "pc", "page": 2})
    assert second.content.count(b'data-testid="user-row"') == 3
    assert b"cmd2" not in first.content


@pytest.mark.parametrize("who", ["oversight", "officer", "nobody"])
def test_it_hides_the_users_page_from_everyone_else(client, users, who):
    sign_in(client, getattr(users, who))
    assert client.get(reverse("users")).status_code == 404
    assert client.get(reverse("user", args=[users.command.pk])).status_code == 404


def test_it_puts_users_in_the_administrators_navigation(client, users):
    sign_in(client, users.admin)
    assert f'href="{reverse("users")}"'.encode() in client.get(reverse("home")).content
    sign_in(client, users.oversight)
    assert f'href="{reverse("users")}"'.encode() not in client.get(reverse("home")).content


def test_it_creates_a_user_with_a_role_who_enrols_at_first_sign_in(client, users):
    sign_in(client, users.admin)
    page = client.post(
        reverse("users"),
        {"username": "newoff", "first_name": "New", "last_name": "Officer", "role": "officer"},
    )
    assert page.status_code == 200
    password = page.context["created_password"]
    created = User.objects.get(username="newoff")
    assert access.roles(created) == [access.OFFICER] and created.check_password(password)
    assert not TOTPDevice.objects.filter(user=created).exists()
    row = AuditEvent.objects.get(action="user.create")
    assert (row.actor_username, row.details["role"]) == ("adm", "officer")
    assert password not in str(row.details)
    fresh = type(client)()
    response = fresh.post(reverse("login"), {"username": "newoff", "password": password})
    assert fresh.get(response.url).url.startswith(reverse("mfa_enrol"))


def test_it_refuses_a_taken_username(client, users):
    sign_in(client, users.admin)
    page = client.post(reverse("users"), {"username": "CMD", "role": "officer"})
    assert page.status_code == 400 and b"taken" in page.content


def test_it_changes_a_role_and_audits_both(client, users):
    sign_in(client, users.admin)
    url = reverse("user", args=[users.officer.pk])
    assert client.post(url, {"action": "role", "role": "oversight"}).status_code == 302
    assert access.roles(users.officer) == [access.OVERSIGHT]
    row = AuditEvent.objects.get(action="user.role_change")
    assert row.details == {"from": ["officer"], "to": ["oversight"]}


def test_it_deactivates_a_user_ending_sessions_and_their_tokens(client, users):
    other = sign_in(type(client)(), users.admin)  # a second administrator
    admin2 = make_user("adm2", access.ADMIN)
    token, key = tokens.api_token_create(by=admin2, name="Feed", role=access.OVERSIGHT)
    leaver = sign_in(type(client)(), admin2)
    url = reverse("user", args=[admin2.pk])
    response = other.post(url, {"action": "deactivate", "reason": "Left the force"})
    assert response.status_code == 302
    admin2.refresh_from_db()
    token.refresh_from_db()
    assert not admin2.is_active and token.revoked_at is not None
    assert leaver.get(reverse("home")).status_code == 302
    assert Session.objects.count() == 1
    row = AuditEvent.objects.get(action="user.deactivate")
    assert (row.purpose, row.details["tokens_revoked"]) == ("Left the force", 1)
    api = type(client)().get("/api/v1/deployments/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.status_code in {401, 403}


def test_it_reactivates_a_user(client, users):
    sign_in(client, users.admin)
    url = reverse("user", args=[users.officer.pk])
    client.post(url, {"action": "deactivate", "reason": "Suspended"})
    client.post(url, {"action": "reactivate", "reason": "Back"})
    users.officer.refresh_from_db()
    assert users.officer.is_active
    assert AuditEvent.objects.filter(action="user.reactivate").exists()


def test_it_never_changes_or_deactivates_ones_own_account(client, users):
    sign_in(client, users.admin)
    url = reverse("user", args=[users.admin.pk])
    assert client.post(url, {"action": "deactivate", "reason": "x"}).status_code == 403
    assert client.post(url, {"action": "role", "role": "officer"}).status_code == 403
    users.admin.refresh_from_db()
    assert users.admin.is_active and access.roles(users.admin) == [access.ADMIN]


def test_it_shows_tokens_last_sign_in_and_second_factor(client, users):
    tokens.api_token_create(by=users.admin, name="Case system", role=access.COMMAND_STAFF)
    totp_device(users.officer)
    sign_in(client, users.officer)
    sign_in(client, users.admin)
    own = client.get(reverse("user", args=[users.admin.pk]))
    assert b"Case system" in own.content
    assert b'data-testid="reset-mfa"' not in own.content  # never your own
    page = client.get(reverse("user", args=[users.officer.pk]))
    assert b'data-testid="last-login"' in page.content and b"never" not in page.content
    assert b'data-testid="reset-mfa"' in page.content


def test_it_resets_a_second_factor_from_the_users_page(client, users):
    totp_device(users.officer)
    sign_in(client, users.admin)
    response = client.post(reverse("mfa_reset", args=[users.officer.pk]), {"reason": "Phone lost"})
    assert response.url == reverse("user", args=[users.officer.pk])
    assert not TOTPDevice.objects.filter(user=users.officer).exists()


def test_the_django_admin_is_closed(client, users):
    sign_in(client, users.admin)
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404


def test_it_unlocks_a_locked_account(client, users, settings):
    from core import services
    from core.models import LoginThrottle

    settings.LFR_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        services.login_failed(username="off")
    sign_in(client, users.admin)
    url = reverse("user", args=[users.officer.pk])
    assert b'data-testid="unlock"' in client.get(url).content
    assert client.post(url, {"action": "unlock", "reason": "Verified by phone"}).status_code == 302
    assert not LoginThrottle.objects.filter(username="off").exists()
    assert AuditEvent.objects.get(action="user.unlock").purpose == "Verified by phone"
