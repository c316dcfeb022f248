"""Issue 26 in a real browser: command sees the activation gate on a draft, revises a
refused plan and resubmits it (the refusal stays in its history); the plan form offers
only the chosen site's cameras; an authorisation inside the notice lead asks why, and
the published record states the lead actually given."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments import selectors, services
from deployments.models import Camera, Deployment, Site
from tests.fixtures_live import page_as
from tests.helpers import SCREENSHOTS_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(live_browser):
    return live_browser


def test_command_mends_a_refused_plan_and_resubmits_it(
    browser, live_server, users, deployment_in_state
):
    other = Site.objects.create(name="Elsewhere")
    Camera.objects.create(name="cam-far", stream_url="rtsp://10.0.0.9/x", site=other)
    draft = deployment_in_state("draft", policy_reference="")
    page = page_as(browser, live_server, users.command)
    page.goto(f"/deployments/{draft.pk}/")
    assert "no appropriate policy document reference" in page.inner_text("[data-testid=gate]")
    with page.expect_navigation():
        page.click("form[action$='/submit/'] button")
    assert "no appropriate policy document reference" in page.inner_text(".messages")

    services.deployment_refuse(
        deployment=draft, by=users.authoriser, reason="Name the appropriate policy document."
    )
    page.goto(f"/deployments/{draft.pk}/")
    with page.expect_navigation():
        page.click("[data-testid=revise]")
    assert "Name the appropriate policy document." in page.inner_text("[data-testid=revising]")
    assert page.is_hidden("label:has-text('cam-far')")  # another site's camera
    page.fill("input[name=policy_reference]", "APD-2026-02")
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    with page.expect_navigation():
        page.click("form[action$='/submit/'] button")
    history = page.inner_text("[data-testid=history]")
    assert draft.reference in history and "Name the appropriate policy document." in history
    page.screenshot(path=SCREENSHOTS_DIR / "plan-revised-history.png", full_page=True)
    revision = Deployment.objects.get(revises=draft)
    assert revision.state == "submitted" and revision.policy_reference == "APD-2026-02"


def test_an_authorisation_inside_the_notice_lead_asks_why(
    browser, live_server, users, deployment_in_state, settings
):
    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 7
    soon = deployment_in_state("submitted", starts_at=timezone.now() + timedelta(minutes=3))
    page = page_as(browser, live_server, users.authoriser)
    page.goto(f"/deployments/{soon.pk}/authorise/")
    assert "7-day advance public notice" in page.inner_text("[data-testid=short-notice]")
    with page.expect_navigation():
        page.click("button[name=authorise]")
    assert Deployment.objects.get(pk=soon.pk).state == "submitted"
    page.fill("textarea[name=short_notice_reason]", "Credible threat reported this morning")
    page.screenshot(path=SCREENSHOTS_DIR / "authorise-short-notice.png", full_page=True)
    with page.expect_navigation():
        page.click("button[name=authorise]")
    soon.refresh_from_db()
    assert soon.state == "authorised"
    services.lifecycle_tick(now=soon.starts_at + timedelta(seconds=1))
    services.lifecycle_tick(now=soon.ends_at + timedelta(seconds=1))
    soon.refresh_from_db()
    notice = selectors.published_row(soon.record)["Advance Notice"]
    assert notice.startswith(("2 minutes", "3 minutes")) and "7 days asked" in notice
