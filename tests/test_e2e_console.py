"""The live console in a real browser (Debian's chromium) against the real server.

The server is `manage.py lfr_demo` (ASGI + embedded worker and beat) on the test
database; alerts come from the real recognition pipeline on the sample clip.
"""

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core import access
from core.browser import sign_in_browser
from core.demo import seed_users
from deployments.models import Deployment
from tests.factories import make_deployment
from tests.fixtures_console import Server, browser_password, make_alert
from tests.helpers import (
    PASSWORD,
    SCREENSHOTS_DIR,
    TOTP_KEY,
    launch_chromium,
    make_user,
    subprocess_env,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

SHOTS = SCREENSHOTS_DIR


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test
    # makes meanwhile are plain synchronous calls, so Django's guard is lifted for them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path, db):
    srv = Server(subprocess_env(LFR_VAR_DIR=str(tmp_path / "var")), tmp_path / "server.log")
    yield srv
    srv.stop()


def raise_alert(deployment, **kwargs):
    """make_alert from a plain thread: the nudge needs one with no event loop running."""

    def run():
        try:
            return make_alert(deployment, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def login(browser, server, username):
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    sign_in_browser(page, username, PASSWORD, TOTP_KEY)
    page.wait_for_url(re.compile(r".*/$"))
    return page


def open_console(page, deployment):
    page.goto("/recognition/")
    page.click(f"tr:has-text('{deployment.reference}') >> text=Open console")
    page.wait_for_selector("#conn[data-state=live]")


@pytest.fixture
def demo(db):
    """`make demo`'s data on the test database: demo users, watchlist, live deployment."""
    seed_users()
    browser_password(*get_user_model().objects.filter(username__in=["officer", "officer2"]))
    call_command("seed_demo_data")
    return Deployment.objects.get(state=Deployment.State.LIVE)


@pytest.fixture
def outsider(db):
    """An officer assigned to nothing."""
    user = make_user("officer3", access.OFFICER)
    browser_password(user)
    return user


@pytest.fixture
def cut_deployment(users):
    deployment = make_deployment(officers=[users.officer], requested_by=users.command)
    browser_password(users.officer)
    return deployment


# Database setup happens in fixtures listed before `browser`: once Playwright's loop runs
# in this thread, Django would open a second connection here that nobody closes.


def test_it_shows_a_real_alert_and_shares_the_decision(demo, outsider, server, browser):
    officer = login(browser, server, "officer")
    open_console(officer, demo)
    officer2 = login(browser, server, "officer2")
    open_console(officer2, demo)

    # The embedded beat starts the stream within ~10 s; the clip holds both subjects.
    card = officer.wait_for_selector("[data-testid=alert]", timeout=150_000)
    officer.screenshot(path=SHOTS / "console-alert.png", full_page=True)
    seq = card.get_attribute("data-seq")
    assert re.match(r"Alert \d+ · DEMO-(LMM|AL)", card.query_selector("h2").inner_text())
    assert card.query_selector("img[alt=Camera]") and card.query_selector("img[alt=Watchlist]")

    # The demo deployment is two-person (LFR_REQUIRE_TWO_PERSON_VERIFICATION, the
    # default): both officers verify it before either records the decision.
    assert demo.verification == Deployment.Verification.TWO
    state = f"[data-seq='{seq}'] [data-testid=verification]"
    own = f"[data-seq='{seq}'] form[data-testid=verify]"
    for page, before in ((officer, "awaiting_first"), (officer2, "awaiting_second")):
        # The card as it stands before this officer's turn (the other's nudge arrived):
        # no re-draw can clear the choice between the click on the radio and the submit.
        page.wait_for_selector(f"{state}[data-state={before}]", timeout=15_000)
        page.locator(f"{own} input[name=is_true_match][value=true]").check()
        page.locator(f"{own} button[type=submit]").click()
        page.wait_for_selector(own, state="detached", timeout=15_000)  # recorded
    officer.wait_for_selector(f"{state}[data-state=verified]", timeout=15_000)
    form = officer.wait_for_selector(f"[data-seq='{seq}'] form[data-testid=decide]")
    form.query_selector("input[name=confirmed][value=true]").check()
    form.query_selector("select[name=outcome]").select_option("no_action")
    form.query_selector("textarea[name=note]").fill("Demo: actor on stage")
    form.query_selector("button[type=submit]").click()
    mine = f"[data-seq='{seq}'] [data-testid=decision]"
    officer.wait_for_selector(f"{mine}:has-text('True match, confirmed')")
    # The other console learns it without reloading.
    officer2.wait_for_selector(f"{mine}:has-text('True match, confirmed')", timeout=15_000)
    officer2.screenshot(path=SHOTS / "console-decision-shared.png", full_page=True)

    stranger = login(browser, server, outsider.username)
    stranger.goto("/recognition/")
    assert stranger.get_by_test_id("no-consoles").is_visible()
    response = stranger.goto(f"/recognition/deployments/{demo.pk}/console/")
    assert response.status == 404
    stranger.screenshot(path=SHOTS / "console-unassigned-404.png", full_page=True)


def test_it_shows_every_alert_exactly_once_across_cut_sockets(
    users, cut_deployment, server, browser
):
    deployment = cut_deployment
    page = login(browser, server, users.officer.username)
    open_console(page, deployment)
    total = 12
    for n in range(1, total + 1):
        raise_alert(deployment, distance=0.3 + n / 100)
        if n % 3 == 0:
            page.evaluate("window.lfrConsole.socket && window.lfrConsole.socket.close()")
        if n == 7:
            page.context.set_offline(True)
            page.wait_for_selector("#conn:not([data-state=live])")
            raise_alert(deployment, distance=0.45)
            page.context.set_offline(False)
    total += 1
    page.wait_for_function(
        # Functions, not expression strings: those are eval'd, which the CSP refuses.
        f"() => document.querySelectorAll('[data-testid=alert]').length >= {total}",
        timeout=60_000,
    )
    page.wait_for_selector("#conn[data-state=live]")
    # One more server tick after that: nothing may arrive twice.
    ticks = page.evaluate("window.lfrConsole.ticks")
    page.wait_for_function(f"() => window.lfrConsole.ticks > {ticks}", timeout=30_000)
    seqs = [
        int(s)
        for s in page.eval_on_selector_all(
            "[data-testid=alert]", "els => els.map(e => e.dataset.seq)"
        )
    ]
    page.screenshot(path=SHOTS / "console-after-cuts.png", full_page=True)
    assert seqs == list(range(total, 0, -1))


@pytest.fixture
def overdue_alert(cut_deployment):
    alert = make_alert(cut_deployment, nudge=False)
    # Older than LFR_UNADJUDICATED_MINUTES and still undecided.
    alert.__class__.objects.filter(pk=alert.pk).update(
        created_at=timezone.now() - timedelta(minutes=settings.LFR_UNADJUDICATED_MINUTES + 2)
    )
    return alert


def test_it_makes_old_undecided_alerts_stand_out_and_shows_the_connection(
    users, cut_deployment, overdue_alert, server, browser
):
    page = login(browser, server, users.officer.username)
    open_console(page, cut_deployment)
    card = page.wait_for_selector("[data-testid=alert].overdue")
    assert "Undecided for" in card.query_selector("[data-testid=overdue]").inner_text()
    assert page.get_by_test_id("connection").inner_text() == "Live"
    page.screenshot(path=SHOTS / "console-overdue.png", full_page=True)
    page.context.set_offline(True)
    page.evaluate("window.lfrConsole.socket && window.lfrConsole.socket.close()")
    page.wait_for_selector("#conn[data-state=offline], #conn[data-state=reconnecting]")
    assert "offline since" in page.get_by_test_id("connection").inner_text().lower()
    page.screenshot(path=SHOTS / "console-reconnecting.png")
    page.context.set_offline(False)
    page.wait_for_selector("#conn[data-state=live]", timeout=30_000)


@pytest.fixture
def waiting_alert(cut_deployment):
    return make_alert(cut_deployment, nudge=False)


def test_it_retries_a_decision_the_server_could_not_save_and_confirms_it_once(
    users, cut_deployment, waiting_alert, server, browser
):
    from recognition.models import Adjudication

    page = login(browser, server, users.officer.username)
    held = []  # the decision's requests, answered by the test when it is ready
    page.route("**/adjudicate/", lambda route: held.append(route))
    open_console(page, cut_deployment)
    card = page.wait_for_selector("[data-testid=alert]")
    form = card.query_selector("form[data-testid=decide]")
    form.query_selector("input[name=is_true_match][value=false]").check()
    form.query_selector("input[name=confirmed][value=true]").check()
    form.query_selector("select[name=outcome]").select_option("no_action")
    form.query_selector("button[type=submit]").click()

    def request(n):
        deadline = time.monotonic() + 30
        while len(held) < n:
            assert time.monotonic() < deadline, f"no request {n}"
            page.wait_for_timeout(100)
        return held[n - 1]

    page.wait_for_selector("[data-testid=save-status]:has-text('Saving')")
    request(1).fulfill(status=503, body="Service Unavailable")
    status = page.wait_for_selector("[data-testid=save-status]:has-text('Not saved')")
    assert "503" in status.inner_text()
    retry = request(2)  # held: the server has not answered it yet
    assert "retry" in retry.request.post_data
    assert page.get_by_test_id("decision").inner_text() == "Awaiting decision"
    assert page.get_by_test_id("connection").get_attribute("data-state") == "trouble"
    page.screenshot(path=SHOTS / "console-decision-retrying.png", full_page=True)

    retry.continue_()
    page.wait_for_selector("[data-testid=decision]:has-text('False match, confirmed')")
    page.wait_for_selector("#conn[data-state=live]")
    page.screenshot(path=SHOTS / "console-decision-confirmed.png", full_page=True)
    assert len(held) == 2
    assert Adjudication.objects.filter(alert=waiting_alert).count() == 1

    # The server goes away: the badge never says "Live" while nothing answers.
    server.stop()
    page.wait_for_selector("#conn[data-state=trouble]", timeout=30_000)
    assert "Server trouble" in page.get_by_test_id("connection").inner_text()
    page.screenshot(path=SHOTS / "console-server-trouble.png")


def test_it_shows_times_in_the_forces_zone_whatever_the_browsers_zone(
    cut_deployment, server, browser, users, settings
):
    from django.utils import timezone

    context = browser.new_context(base_url=server.url, timezone_id="America/New_York")
    page = context.new_page()
    sign_in_browser(page, users.officer.username, PASSWORD, TOTP_KEY)
    page.wait_for_url(re.compile(r".*/$"))
    open_console(page, cut_deployment)
    alert = raise_alert(cut_deployment)
    card = page.wait_for_selector(f"[data-seq='{alert.seq}']", timeout=60_000)
    shown = card.inner_text()
    force = timezone.localtime(alert.frame_at).strftime("%H:%M:%S")  # TIME_ZONE's clock
    import zoneinfo

    new_york = alert.frame_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert f"First seen {force}" in shown
    assert new_york.strftime("%H:%M:%S") not in shown
    zone = page.inner_text("[data-testid=zone]")
    assert settings.TIME_ZONE in zone  # named once, in the footer
    assert page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone") == (
        "America/New_York"
    )
    page.screenshot(path=SHOTS / "console-one-clock-new-york-browser.png", full_page=True)
