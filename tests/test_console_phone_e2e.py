"""Issue 26: the console on a phone and from the keyboard, in a real browser against the
real ASGI app. At 390 px the first alert card is above the fold (the two-person banner,
the notification offer and the keyboard line come after it), and Enter records a
verification as the key line says."""

import pytest

from tests.helpers import SCREENSHOTS_DIR
from tests.test_e2e_console import browser, login  # noqa: F401 (browser is a fixture)
from tests.test_verification_e2e import CARD, STATE, WAIT, server, two_person  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _console(page, deployment):
    page.goto(f"/recognition/deployments/{deployment.pk}/console/")
    page.wait_for_selector("#conn[data-state=live]", timeout=WAIT)
    page.wait_for_selector(CARD, timeout=WAIT)


def test_the_first_alert_card_is_above_the_fold_on_a_phone(
    two_person,  # noqa: F811
    users,
    server,  # noqa: F811
    browser,  # noqa: F811
):
    page = login(browser, server, users.officer.username)
    page.set_viewport_size(PHONE)
    _console(page, two_person)
    top = page.locator(CARD).first.bounding_box()["y"]
    page.screenshot(path=SCREENSHOTS_DIR / "console-phone.png")
    assert top < PHONE["height"] * 0.6, f"the first alert card starts {top:.0f} px down"


def test_enter_records_a_verification(two_person, users, server, browser):  # noqa: F811 (fixtures)
    page = login(browser, server, users.officer.username)
    _console(page, two_person)
    page.keyboard.press("n")
    page.keyboard.press("t")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{STATE}:has-text('You verified: true match')", timeout=WAIT)
