"""Issue 26 in a real browser (Debian's chromium) against the real ASGI app (daphne): the
administrator creates an officer who enrols and signs in, changes a role, deactivates a
user whose open console then closes, and resets another user's second factor."""

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import access
from core.browser import enter_code
from core.mfa import hex_from_base32
from core.models import AuditEvent
from tests.factories import make_deployment
from tests.fixtures_console import Daphne, browser_password
from tests.helpers import SCREENSHOTS_DIR, subprocess_env
from tests.test_e2e_console import browser, login  # noqa: F401 (browser is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAIT = 30_000  # ms: a deadline for each condition, never a delay


@pytest.fixture
def watched(users):
    deployment = make_deployment(officers=[users.officer], requested_by=users.command)
    browser_password(users.admin, users.officer, users.officer2)
    deployment.console_url = f"/recognition/deployments/{deployment.pk}/console/"
    return deployment


@pytest.fixture
def server(tmp_path, watched):
    srv = Daphne(subprocess_env(LFR_VAR_DIR=str(tmp_path / "var")), tmp_path / "daphne.log")
    yield srv
    srv.stop()


def open_user(page, username):
    page.goto("/accounts/users/")
    page.fill("input[name=q]", username)
    with page.expect_navigation():
        page.click("form[role=search] button")
    with page.expect_navigation():
        page.click(f"[data-testid=user-row] a:text-is('{username}')")


def test_the_administrator_runs_users_from_the_page(
    watched,
    users,
    server,
    browser,  # noqa: F811
):
    admin = login(browser, server, "adm")
    with admin.expect_navigation():
        admin.click("nav >> text=Users")
    admin.fill("input[name=username]", "newofficer")
    admin.fill("input[name=first_name]", "Nia")
    admin.fill("input[name=last_name]", "Newcomer")
    admin.select_option("select[name=role]", access.OFFICER)
    with admin.expect_navigation():
        admin.click("[data-testid=user-form] button[type=submit]")
    password = admin.inner_text("[data-testid=new-user-password]")
    admin.screenshot(path=SCREENSHOTS_DIR / "users.png", full_page=True)

    # The new officer: the one-time password, then an authenticator enrolled, then in.
    newcomer = browser.new_context(base_url=server.url).new_page()
    newcomer.goto("/accounts/login/")
    newcomer.fill("input[name=username]", "newofficer")
    newcomer.fill("input[name=password]", password)
    with newcomer.expect_navigation():
        newcomer.click("button[type=submit]")
    assert "/accounts/mfa/enrol/" in newcomer.url
    enter_code(
        newcomer, "newofficer", hex_from_base32(newcomer.inner_text("[data-testid=mfa-secret]"))
    )
    newcomer.click("text=Continue")
    assert newcomer.inner_text("[data-testid=whoami]") == "newofficer"
    assert "Live alerts" in newcomer.inner_text("nav")

    # A role changed.
    open_user(admin, "cmd2")
    admin.select_option("[data-testid=change-role] select[name=role]", access.OVERSIGHT)
    with admin.expect_navigation():
        admin.click("[data-testid=change-role] button")
    assert admin.inner_text("[data-testid=roles]") == "Oversight"

    # A leaver deactivated while watching: their console closes.
    officer = login(browser, server, "off")
    officer.goto(watched.console_url)
    officer.wait_for_selector("#conn[data-state=live]", timeout=WAIT)
    open_user(admin, "off")
    admin.fill("[data-testid=deactivate] textarea[name=reason]", "Left the force, HR-7")
    with admin.expect_navigation():
        admin.click("[data-testid=deactivate] button")
    assert admin.inner_text("[data-testid=state]") == "deactivated"
    # Closed at once by the service's signal, else by the console's own 5-second tick: a
    # generous deadline, for a machine shared with other test runs.
    officer.wait_for_selector("#conn[data-state=ended]", timeout=2 * WAIT)
    assert "no longer watch" in officer.inner_text("#conn")

    # Another user's second factor reset, with a reason.
    open_user(admin, "off2")
    admin.fill("[data-testid=reset-mfa] textarea[name=reason]", "Phone lost, INC-42")
    with admin.expect_navigation():
        admin.click("[data-testid=reset-mfa] button")
    assert "enrols an authenticator" in admin.inner_text("[data-testid=enrolled]")
    admin.screenshot(path=SCREENSHOTS_DIR / "user-after-reset.png", full_page=True)

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"user.create", "user.role_change", "user.deactivate", "mfa.reset"} <= actions
    assert "deployment.watch_ended" in actions
    assert not get_user_model().objects.get(username="off").is_active
    assert not TOTPDevice.objects.filter(user__username="off2").exists()
