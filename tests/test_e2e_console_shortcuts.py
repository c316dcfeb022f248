"""The console's keyboard shortcuts and its sound/notification offer, in a real browser.

Chromium runs headless, where a page is never hidden and the notification prompt cannot
be answered: an init script stands in for `window.Notification` (it records what the page
asks for, and keeps the officer's grant in localStorage as the browser would keep it) and
lets the test say when the officer has looked away (`document.hidden`).
"""

import pytest

from recognition.models import Adjudication
from tests.factories import make_deployment
from tests.fixtures_console import browser_password, make_alert
from tests.helpers import SCREENSHOTS_DIR
from tests.test_e2e_console import browser, login, open_console, raise_alert, server  # noqa: F401

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

SHOTS = SCREENSHOTS_DIR

STUB = """
(() => {
  window.__notes = [];
  window.__asked = 0;
  window.__away = false;
  Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__away });
  function Note(title, options) {
    window.__notes.push({ title: title, body: (options || {}).body, tag: (options || {}).tag });
    this.close = function () {};
  }
  Object.defineProperty(Note, "permission", {
    get: () => localStorage.getItem("test.permission") || "default",
  });
  Note.requestPermission = function () {
    window.__asked += 1;
    localStorage.setItem("test.permission", "granted");
    return Promise.resolve("granted");
  };
  window.Notification = Note;
})();
"""


@pytest.fixture
def deployment(users):
    deployment = make_deployment(officers=[users.officer], requested_by=users.command)
    browser_password(users.officer)
    make_alert(deployment, nudge=False)  # waiting when the officer opens the console
    return deployment


def focused_seq(page):
    return page.evaluate("() => document.activeElement && document.activeElement.dataset.seq")


def decide_by_keys(page, seq, match_key, identity_key):
    """n to the next card, letters on its form, the outcome, Enter: as the help line says."""
    card = page.locator(f"[data-testid=alert][data-seq='{seq}']")
    page.keyboard.press(match_key)
    page.keyboard.press(identity_key)
    form = card.locator("form[data-testid=decide]")
    value = "true" if match_key == "t" else "false"
    assert form.locator(f"input[name=is_true_match][value={value}]").is_checked()
    value = "true" if identity_key == "c" else "false"
    assert form.locator(f"input[name=confirmed][value={value}]").is_checked()
    outcome = form.locator("select[name=outcome]")
    outcome.focus()  # the outcome is picked with Tab (help text); a key chooses it there
    outcome.select_option("no_action")
    page.keyboard.press("Enter")


def test_it_decides_by_keys_notifies_and_remembers_the_choice(
    users,
    deployment,
    server,  # noqa: F811
    browser,  # noqa: F811
):
    page = login(browser, server, users.officer.username)
    page.context.add_init_script(STUB)
    open_console(page, deployment)
    page.wait_for_selector("[data-testid=alert][data-seq='1']")

    # First visit: the page offers sound and notifications; the officer takes them.
    offer = page.locator("#cue-offer")
    offer.wait_for(state="visible")
    page.screenshot(path=SHOTS / "i15-console-offer.png", full_page=True)
    offer.locator("[data-cue=on]").click()
    offer.wait_for(state="hidden")
    assert page.evaluate("() => window.__asked") == 1
    assert page.locator("#sound").is_checked()

    # The officer looks away; a new alert arrives and the desktop is told.
    page.evaluate("() => { window.__away = true; }")
    raise_alert(deployment)
    page.wait_for_selector("[data-testid=alert][data-seq='2']")
    page.wait_for_function("() => window.__notes.length === 1", timeout=10_000)
    note = page.evaluate("() => window.__notes[0]")
    assert note["title"] == f"Alert 2 · {deployment.reference}"
    assert note["tag"] == "lfr-alert-2"
    page.evaluate("() => { window.__away = false; }")

    # Keys: n focuses the newest undecided card; t, c and the outcome record it; the
    # focus moves on to the next card still waiting.
    page.keyboard.press("n")
    assert focused_seq(page) == "2"
    decide_by_keys(page, 2, "t", "c")
    page.wait_for_selector(
        "[data-seq='2'] [data-testid=decision]:has-text('True match, confirmed')"
    )
    assert Adjudication.objects.filter(alert__deployment=deployment, alert__seq=2).count() == 1
    page.wait_for_function("() => document.activeElement.dataset.seq === '1'", timeout=5_000)
    assert page.locator("[data-seq='1']").get_attribute("class").count("focused") == 1
    page.screenshot(path=SHOTS / "i15-console-keys-next.png", full_page=True)

    decide_by_keys(page, 1, "f", "u")
    page.wait_for_selector(
        "[data-seq='1'] [data-testid=decision]:has-text('False match, unconfirmed')"
    )
    adj = Adjudication.objects.get(alert__deployment=deployment, alert__seq=1)
    assert (adj.is_true_match, adj.confirmed, adj.by) == (False, False, users.officer)

    # Next visit: the choice is remembered, not offered again, and still notifies.
    page.reload()
    page.wait_for_selector("#conn[data-state=live]")
    page.wait_for_selector("[data-testid=alert][data-seq='1']")
    assert page.locator("#cue-offer").is_hidden()
    assert page.locator("#sound").is_checked()
    assert page.evaluate("() => window.__asked") == 0
    page.evaluate("() => { window.__away = true; }")
    raise_alert(deployment)
    page.wait_for_function("() => window.__notes.length === 1", timeout=10_000)
    assert page.evaluate("() => window.__notes[0].tag") == "lfr-alert-3"
    page.screenshot(path=SHOTS / "i15-console-after-reload.png", full_page=True)
