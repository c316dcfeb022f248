"""Screenshots of the oversight reports in a real browser (Debian's chromium)."""

from datetime import timedelta

import pytest
from django.conf import settings

from tests.fixtures_oversight import adjudicate, make_alert
from tests.helpers import SCREENSHOTS_DIR, launch_chromium, sign_in

SHOTS = SCREENSHOTS_DIR
# live_server needs committed data (role groups come back after each flush: core.roles).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


GROUP_CYCLE = ["White", "Black", "White", "Asian", "Black", "White", "Mixed", "Black", "", "White"]


def _seed_volume(world):
    """On top of the ten seeded alerts, a deterministic spread across the four deployments:
    enough decided alerts for some groups to conclude and others not."""
    officer = world.users.officer
    for key, n in (("D1", 48), ("D2", 70), ("D3", 40), ("D4", 30)):
        d = world.deployments[key]
        for i in range(n):
            alert = make_alert(d, at=d.starts_at + timedelta(minutes=3 * i), crop=False)
            if i % 17 == 5:
                continue  # left undecided
            false = i % 11 == 3 or (GROUP_CYCLE[i % 10] == "Mixed" and i % 40 == 6)
            outcome = "no_action" if false else ("arrest", "other", "no_action")[i % 3]
            adjudicate(
                alert, by=officer, true=not false, confirmed=i % 6 != 0, outcome=outcome,
                group=GROUP_CYCLE[i % 10], after=1 + (i * 7) % 13,
            )  # fmt: skip


@pytest.fixture
def seeded(oversight_world, evaluation_run):
    from recognition.services.holds import alert_hold_place

    _seed_volume(oversight_world)
    alert_hold_place(
        alert=oversight_world.alerts[6],
        by=oversight_world.users.command,
        reason="R v Doe: disclosure to the defence, Southwark Crown Court",
    )
    return oversight_world


@pytest.fixture
def browser_page(live_server, client, seeded, monkeypatch):
    from playwright.sync_api import sync_playwright

    # All ORM work happens before Playwright starts: under its event loop, Django's
    # context-local connections would open a second connection that nothing closes.
    sign_in(client, seeded.users.oversight)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    # Playwright's sync API runs an event loop in this thread; the ORM work is done above.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        page = context.new_page()
        yield page
        browser.close()


def test_it_screenshots_the_effectiveness_accuracy_and_equality_pages(browser_page, live_server):
    page = browser_page
    page.goto(f"{live_server.url}/oversight/reports/effectiveness/")
    assert page.locator("h1").inner_text() == "Effectiveness"
    assert page.locator("svg.chart").count() == 3
    page.screenshot(path=str(SHOTS / "oversight-effectiveness.png"), full_page=True)

    page.goto(f"{live_server.url}/oversight/reports/accuracy/")
    assert "operating point 0.5" in page.content()
    page.screenshot(path=str(SHOTS / "oversight-accuracy.png"), full_page=True)

    page.goto(f"{live_server.url}/oversight/reports/equality/")
    assert page.locator("[data-testid=conclusion]").is_visible()
    assert page.locator("text=too few to conclude").count() >= 1
    page.screenshot(path=str(SHOTS / "oversight-equality.png"), full_page=True)

    # Not asked for, but the pages a reviewer lives in: check they read well too.
    page.goto(f"{live_server.url}/oversight/audit/")
    assert "chain intact" in page.content()
    page.screenshot(path=str(SHOTS / "oversight-audit.png"), full_page=True)
    page.goto(f"{live_server.url}/oversight/reports/retention/")
    page.screenshot(path=str(SHOTS / "oversight-retention.png"), full_page=True)

    for name in ("effectiveness", "accuracy", "equality"):
        assert (SHOTS / f"oversight-{name}.png").stat().st_size > 10_000
