"""Two-person verification in a real browser (Debian's chromium) against the real ASGI app.

Two officers, each in a browser context of their own, watch one two-person deployment.
The server is daphne alone (no embedded worker): the alert is raised before the consoles
open, and each verification is posted by the officers' own pages, so every nudge is the
server's own.
"""

import pytest
from django.urls import reverse

from deployments.models import Deployment
from tests.factories import make_deployment
from tests.fixtures_console import Daphne, browser_password, make_alert
from tests.helpers import SCREENSHOTS_DIR, subprocess_env
from tests.test_e2e_console import browser, login  # noqa: F401 (browser is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHOTS = SCREENSHOTS_DIR
WAIT = 30_000  # ms: a deadline for each condition, never a delay


@pytest.fixture
def two_person(users):
    deployment = make_deployment(
        reference="DEP-TWO",
        officers=[users.officer, users.officer2],
        requested_by=users.command,
        verification=Deployment.Verification.TWO,
    )
    alert = make_alert(deployment, subject="SUBJ-TWO", nudge=False)
    browser_password(users.officer, users.officer2)
    # Read here, before the browser's loop runs in this thread (no ORM after that).
    deployment.verify_url = reverse("recognition:verify", args=[alert.pk])
    return deployment


@pytest.fixture
def server(tmp_path, two_person):
    srv = Daphne(subprocess_env(LFR_VAR_DIR=str(tmp_path / "var")), tmp_path / "daphne.log")
    yield srv
    srv.stop()


def console(browser, server, username, deployment):  # noqa: F811 (the fixture, passed in)
    page = login(browser, server, username)
    page.goto(f"/recognition/deployments/{deployment.pk}/console/")
    page.wait_for_selector("#conn[data-state=live]", timeout=WAIT)
    page.wait_for_selector("[data-testid=alert]", timeout=WAIT)
    return page


CARD = "[data-testid=alert]"
STATE = f"{CARD} [data-testid=verification]"


def verify(page, value: str) -> None:
    form = page.locator(f"{CARD} form[data-testid=verify]")
    form.locator(f"input[name=is_true_match][value={value}]").check()
    form.locator("button[type=submit]").click()


def wait_state(page, state: str) -> None:
    page.wait_for_selector(f"{STATE}[data-state={state}]", timeout=WAIT)


def test_engage_appears_only_after_a_second_different_officer(
    two_person,
    users,
    server,
    browser,  # noqa: F811
):
    first = console(browser, server, users.officer.username, two_person)
    second = console(browser, server, users.officer2.username, two_person)
    for page in (first, second):
        wait_state(page, "awaiting_first")
        assert page.locator(f"{CARD} form[data-testid=decide]").count() == 0
    assert "1 alert" not in first.get_by_test_id("awaiting-second").inner_text()

    verify(first, "true")
    first.wait_for_selector(f"{STATE}:has-text('You verified: true match')", timeout=WAIT)
    wait_state(second, "awaiting_second")
    first.screenshot(path=SHOTS / "verify-first-officer-waits.png", full_page=True)
    second.screenshot(path=SHOTS / "verify-second-officer-blind.png", full_page=True)
    # The second officer is told a verification waits, not what it said or who said it.
    card = second.locator(CARD).inner_text()
    assert "Awaiting second verification" in card
    assert second.get_by_test_id("verifiers").count() == 0
    assert "off:" not in card and "You verified" not in card
    assert second.get_by_test_id("awaiting-second").inner_text().startswith("1 alert waits")
    for page in (first, second):
        assert page.locator(f"{CARD} form[data-testid=decide]").count() == 0
        assert "engage" not in page.locator(STATE).inner_text()

    verify(second, "true")
    for page in (first, second):
        page.wait_for_selector(
            f"{STATE}:has-text('Verified by two officers — engage')", timeout=WAIT
        )
        page.wait_for_selector(f"{CARD} form[data-testid=decide]", timeout=WAIT)
        verifiers = page.get_by_test_id("verifiers").inner_text()
        assert "off: true match" in verifiers and "off2: true match" in verifiers
    second.screenshot(path=SHOTS / "verify-engage.png", full_page=True)

    form = first.locator(f"{CARD} form[data-testid=decide]")
    form.locator("input[name=confirmed][value=true]").check()
    form.locator("select[name=outcome]").select_option("arrest")
    form.locator("button[type=submit]").click()
    for page in (first, second):
        page.wait_for_selector(
            f"{CARD} [data-testid=decision]:has-text('True match, confirmed — Arrest')",
            timeout=WAIT,
        )
    first.screenshot(path=SHOTS / "verify-outcome-recorded.png", full_page=True)


def test_the_same_officer_cannot_verify_twice(two_person, users, server, browser):  # noqa: F811
    page = console(browser, server, users.officer.username, two_person)
    verify(page, "true")
    page.wait_for_selector(f"{STATE}:has-text('You verified: true match')", timeout=WAIT)
    # No second form for the same officer, and the server refuses one sent anyway.
    assert page.locator(f"{CARD} form[data-testid=verify]").count() == 0
    url = two_person.verify_url
    answer = page.evaluate(
        """async (url) => {
          const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
          const body = new FormData();
          body.append("is_true_match", "false");
          const r = await fetch(url, {
            method: "POST", body, credentials: "same-origin",
            headers: {"X-CSRFToken": csrf, Accept: "application/json"},
          });
          return {status: r.status, body: await r.json()};
        }""",
        url,
    )
    assert answer["status"] == 409
    assert "verified this alert already" in answer["body"]["error"]
    # Reloaded, the console still says one verification, this officer's, and waits.
    page.reload()
    page.wait_for_selector(f"{STATE}:has-text('You verified: true match')", timeout=WAIT)
    assert page.get_by_test_id("awaiting-second").inner_text().startswith("1 alert waits")
    page.screenshot(path=SHOTS / "verify-same-officer-refused.png", full_page=True)


def test_a_disagreement_is_shown_to_both(two_person, users, server, browser):  # noqa: F811
    first = console(browser, server, users.officer.username, two_person)
    second = console(browser, server, users.officer2.username, two_person)
    verify(first, "true")
    wait_state(second, "awaiting_second")
    verify(second, "false")
    for page in (first, second):
        wait_state(page, "disagreed")
        text = page.locator(STATE).inner_text()
        assert "Verifiers disagree — not verified" in text
        verifiers = page.get_by_test_id("verifiers").inner_text()
        assert "off: true match" in verifiers and "off2: false match" in verifiers
        # Not verified: the only decision on offer is a false match with no action.
        form = page.locator(f"{CARD} form[data-testid=decide]")
        form.wait_for(timeout=WAIT)
        assert form.locator("input[name=is_true_match][type=radio]").count() == 0
        outcomes = form.locator("select[name=outcome] option").all_inner_texts()
        assert outcomes == ["—", "No action"]
    first.screenshot(path=SHOTS / "verify-disagreed-first.png", full_page=True)
    second.screenshot(path=SHOTS / "verify-disagreed-second.png", full_page=True)
