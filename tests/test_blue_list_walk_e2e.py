"""Issue 16.7 in a real browser: command staff record a walk-through on the deployment
page and see it scored against the test alert, with the live true-positive rate."""

from datetime import timedelta

import pytest

from deployments.models import DeploymentWatchlist, Walkthrough
from recognition.services.alerts import alert_raise
from tests.fixtures_deployments import make_entry
from tests.fixtures_live import page_as
from tests.helpers import SCREENSHOTS_DIR
from watchlists.models import WatchlistEntry

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_command_staff_record_a_walkthrough_and_see_it_detected(
    live_browser, client, live_server, users, deployment_in_state
):
    volunteer = make_entry(users.contributor, users.manager)
    WatchlistEntry.objects.filter(pk=volunteer.pk).update(is_test_subject=True)
    d = deployment_in_state("live", include_test_subjects=True)
    wl = DeploymentWatchlist.objects.get(deployment=d)
    seen = d.started_at + timedelta(minutes=3)
    alert_raise(
        deployment=d,
        camera=d.cameras.order_by("pk").first(),
        row_label=wl.entry_ids.index(volunteer.pk),
        distance=0.3,
        crop_jpeg=b"\xff\xd8\xff\xe0",
        track_id="walk-1",
        frame_at=seen,
    )
    page = page_as(live_browser, live_server, users.command, client)
    page.goto(f"{live_server.url}/deployments/{d.pk}/")
    form = page.locator("[data-testid=walk-form]")
    form.locator("select[name=entry_id]").select_option(str(volunteer.pk))
    start = (d.started_at + timedelta(minutes=1)).astimezone()
    form.locator("input[name=started_at]").fill(start.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=ended_at]").fill(
        (start + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    )
    form.locator("textarea[name=note]").fill("PC Blue through the north entrance")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=walkthrough][data-detected=yes]")
    assert page.inner_text("[data-testid=blue-list-rate]").startswith(
        "Live true-positive rate: 1 of 1 walk-throughs detected (100.0 %; 95 % CI 20.6-100.0 %)"
    )
    assert Walkthrough.objects.get().recorded_by == users.command
    path = SCREENSHOTS_DIR / "blue-list-walkthrough.png"
    page.screenshot(path=str(path), full_page=True)
    page.close()
