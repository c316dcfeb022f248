"""Chromium against Django's live server, signed in as a user (password and second factor
done through the session, as the browser would after signing in)."""

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from tests.helpers import SCREENSHOTS_DIR, launch_chromium, sign_in


@pytest.fixture
def live_browser(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()
        # ORM calls made inside the Playwright block can open a connection of their own (Django's
        # connections are context-local); close it or PostgreSQL cannot drop the test DB.
        connections.close_all()


def page_as(browser, live_server, user, client=None):
    client = sign_in(client or Client(), user)
    context = browser.new_context(
        viewport={"width": 1280, "height": 1000}, base_url=live_server.url
    )
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return context.new_page()
