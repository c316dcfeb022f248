"""Issue 16.8 in a real browser: the review queue and the authorisation screen show each
reference image's age and flag the old and the undated (screenshots for the record)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import fixtures_watchlists as fx
from tests.fixtures_deployments import make_entry
from tests.fixtures_live import page_as
from tests.helpers import SCREENSHOTS_DIR
from watchlists.models import ReferenceImage

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _shot(page, name):
    path = SCREENSHOTS_DIR / f"image-age-{name}.png"
    page.screenshot(path=str(path), full_page=True)


def test_the_queue_flags_an_old_image_and_an_undated_one(live_browser, client, live_server, users):
    today = timezone.localdate()
    fx.submit_entry(users.contributor, "S-1", taken_on=today - timedelta(days=1100))
    fx.submit_entry(users.contributor, "S-2", result=fx.biden())  # date unknown
    page = page_as(live_browser, live_server, users.manager, client)
    page.goto(f"{live_server.url}/watchlists/queue/")
    page.fill("input[name=purpose]", "Daily review of the queue")
    page.click("[data-testid=purpose-form] button")
    page.wait_for_selector("[data-testid=image-stale]")
    flags = page.locator("[data-testid=image-stale]").all_inner_texts()
    assert any(f.startswith("older than 2 years") for f in flags)
    assert any(f.startswith("date taken unknown") for f in flags)
    _shot(page, "queue")
    page.close()


def test_the_authorisation_screen_lists_entries_without_a_recent_image(
    live_browser, client, live_server, users, deployment_in_state
):
    old = make_entry(users.contributor, users.manager)
    ReferenceImage.objects.filter(entry=old).update(
        taken_on=timezone.localdate() - timedelta(days=900)
    )
    make_entry(users.contributor, users.manager)  # undated
    d = deployment_in_state("submitted")
    page = page_as(live_browser, live_server, users.authoriser, client)
    page.goto(f"{live_server.url}/deployments/{d.pk}/authorise/")
    assert page.inner_text("[data-testid=stale-count]") == "2 of 2 entries"
    _shot(page, "authorise")
    page.close()
