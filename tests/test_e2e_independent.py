"""In a real browser: an authorising officer records the independent authority's refusal
of a live urgent start; the deployment stops and what it collected is gone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments import services
from tests.factories import make_alert
from tests.fixtures_live import page_as
from tests.helpers import SCREENSHOTS_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
COURT = "District Judge (Magistrates' Courts)"


def test_a_refusal_recorded_on_the_page_stops_and_purges_an_urgent_start(
    live_browser, live_server, users, plan, settings
):
    from deployments.models import Deployment
    from recognition.models import Alert

    settings.LFR_INDEPENDENT_AUTHORISATION = "always"
    settings.LFR_URGENT_MODE = True
    now = timezone.now()
    values = plan(urgent=True, starts_at=now + timedelta(minutes=1))
    d = services.deployment_create(by=users.command, cameras=values.pop("cameras"), **values)
    services.deployment_submit(deployment=d, by=users.command)
    services.lifecycle_tick(now=d.starts_at + timedelta(seconds=1))
    d.refresh_from_db()
    assert d.state == "live"
    make_alert(d)
    page = page_as(live_browser, live_server, users.authoriser)
    page.goto(f"/deployments/{d.pk}/independent/")
    page.screenshot(path=SCREENSHOTS_DIR / "independent-live.png", full_page=True)
    page.select_option("select[name=authority]", COURT)
    page.fill("input[name=reference]", "DJ-2026-7")
    page.fill("input[name=decided_at]", timezone.localtime(now).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("select[name=outcome]", "refused")
    page.click("button:has-text('Record decision')")
    page.wait_for_url(f"**/deployments/{d.pk}/independent/")
    assert "were deleted" in page.inner_text("[data-testid=independent-purged]")
    page.screenshot(path=SCREENSHOTS_DIR / "independent-refused.png", full_page=True)
    d = Deployment.objects.get(pk=d.pk)
    assert d.state == "cancelled" and d.purged_at is not None
    assert not Alert.objects.filter(deployment=d).exists()
    page.goto(f"/deployments/{d.pk}/")
    assert "refused by" in page.inner_text("main")
