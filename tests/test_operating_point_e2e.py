"""The authorisation screen for one plan at watchlist sizes 10, 1,000 and 16,000 under a
false-alert policy, in a real browser: the operating point in words and the gate refusing
the sizes the policy cannot support (screenshots under LFR_ARTIFACTS_DIR)."""

from datetime import timedelta

import pytest

from tests.fixtures_live import page_as
from tests.helpers import SCREENSHOTS_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_shows_the_operating_point_and_refuses_what_the_policy_cannot_support(
    users, live_browser, live_server, deployment_in_state, next_monday, settings
):
    # 1 passer-by in 100: the default calibration (0 of 11,564 at 0.507) supports ~38 entries.
    settings.LFR_MAX_FALSE_ALERT_RATE = 0.01
    page = page_as(live_browser, live_server, users.authoriser)
    outcomes = {}
    for day, size in enumerate((10, 1_000, 16_000)):
        d = deployment_in_state(
            "submitted",
            max_watchlist_size=size,
            threshold=0.507,  # the default calibration's measured point
            starts_at=next_monday + timedelta(days=day, hours=10),
        )
        page.goto(f"/deployments/{d.pk}/authorise/")
        card = page.get_by_test_id("operating-point")
        assert card.get_by_test_id("op-threshold").inner_text() == "0.507"
        page.screenshot(path=SCREENSHOTS_DIR / f"i22-authorise-{size}.png", full_page=True)
        page.click("button[name=authorise]")
        page.wait_for_load_state()
        messages = page.locator("ul.messages").inner_text()
        page.screenshot(path=SCREENSHOTS_DIR / f"i22-authorise-{size}-after.png", full_page=True)
        d.refresh_from_db()
        outcomes[size] = (d.state, "cannot support" in messages)
    assert outcomes == {
        10: ("authorised", False),
        1_000: ("submitted", True),
        16_000: ("submitted", True),
    }


def test_it_shows_the_sample_1_to_n_run_on_the_accuracy_page(users, live_browser, live_server):
    from recognition.management.commands.seed_demo_data import Command

    Command()._evaluation()
    page = page_as(live_browser, live_server, users.oversight)
    page.goto("/oversight/reports/accuracy/")
    table = page.get_by_test_id("identification-table")
    assert "FPIR ≤ at 100" in table.inner_text()
    page.screenshot(path=SCREENSHOTS_DIR / "i22-accuracy-1-to-n.png", full_page=True)
