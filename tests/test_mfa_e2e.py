"""Issue 14: a new user's first sign-in in a real browser — enrol an authenticator, keep the
recovery codes, then sign in with a code, and once (only once) with a recovery code."""

import pytest
from django.db import connection, connections

from core import access
from core.browser import enter_code, sign_in_browser
from core.mfa import hex_from_base32
from core.models import AuditEvent
from tests.helpers import PASSWORD, SCREENSHOTS_DIR, launch_chromium, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _password(page, username):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _type_code(page, code):
    page.fill("input[name=code]", code)
    with page.expect_navigation():
        page.click("form:has(input[name=code]) button[type=submit]")


def _log_out(page):
    with page.expect_navigation():
        page.click("header form[action='/accounts/logout/'] button")


def test_a_new_user_enrols_then_signs_in_with_a_code_and_a_recovery_code(
    live_server, monkeypatch
):
    from playwright.sync_api import sync_playwright

    make_user("newofficer", access.OFFICER)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_context(base_url=live_server.url).new_page()

        _password(page, "newofficer")
        assert "/accounts/mfa/enrol/" in page.url
        assert page.locator(".qr svg").is_visible()
        page.screenshot(path=SCREENSHOTS_DIR / "mfa-enrol.png", full_page=True)
        key = hex_from_base32(page.inner_text("[data-testid=mfa-secret]"))
        enter_code(page, "newofficer", key)
        codes = page.locator("[data-testid=recovery-codes] code").all_inner_texts()
        assert len(codes) == 10
        page.screenshot(path=SCREENSHOTS_DIR / "mfa-recovery-codes.png", full_page=True)
        page.click("text=Continue")
        page.wait_for_selector("[data-testid=whoami]")
        _log_out(page)

        sign_in_browser(page, "newofficer", PASSWORD, key)
        assert page.url.rstrip("/") == live_server.url
        _log_out(page)

        _password(page, "newofficer")
        _type_code(page, codes[3])
        assert page.url.rstrip("/") == live_server.url
        _log_out(page)

        _password(page, "newofficer")
        _type_code(page, codes[3])
        assert "/accounts/mfa/" in page.url
        assert "not right" in page.inner_text("[role=alert]")
        page.screenshot(path=SCREENSHOTS_DIR / "mfa-recovery-code-reused.png", full_page=True)
        browser.close()
    connections.close_all()

    actions = list(
        AuditEvent.objects.filter(actor_username="newofficer", action__startswith="mfa.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["mfa.enrolled", "mfa.verified", "mfa.recovery_code_used"]
    assert AuditEvent.objects.filter(action="mfa.failed", object_id="newofficer").count() == 1
