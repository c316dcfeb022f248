"""Issue 26 in a real browser: a manager reviews 20 entries from the queue, one after the
other, and the oversight flag "sensitive reads by one user" stays quiet."""

from urllib.parse import urlencode

import pytest

from core.models import AuditEvent
from oversight.selectors.audit import audit_flags
from tests.fixtures_deployments import make_entry
from tests.fixtures_live import page_as
from tests.helpers import SCREENSHOTS_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(live_browser):
    return live_browser


def test_a_manager_reviews_20_entries_without_a_misuse_flag(browser, live_server, users):
    for _ in range(20):
        make_entry(users.contributor, None, state="pending")
    page = page_as(browser, live_server, users.manager)
    purpose = "Review of pending entries, ticket WL-7"
    page.goto(f"/watchlists/queue/?{urlencode({'purpose': purpose})}")
    for n in range(20):
        first = page.locator("[data-testid=queue-item]").first
        first.locator("textarea[name=reason]").fill(f"Meets the wanted criteria ({n + 1})")
        with page.expect_navigation():  # waits for the next page's load, images included
            first.locator("button:has-text('Approve')").click()
        if n == 0:
            page.screenshot(path=SCREENSHOTS_DIR / "review-next-entry.png", full_page=True)
        assert page.locator("[data-testid=queue-item]").count() <= 1
    assert "Nothing awaits review" in page.inner_text("main")
    assert AuditEvent.objects.filter(action="watchlist.entry_approve").count() == 20
    assert AuditEvent.objects.filter(action="watchlist.image_view").count() == 20
    assert audit_flags(user=users.manager.username)["heavy_viewers"] == []
