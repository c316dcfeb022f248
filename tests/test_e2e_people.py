"""Made for the people who use it, in a real browser: home pages that say what waits,
notices, a second photo for a held subject, API tokens used with curl."""

import json
import subprocess

import pytest

from tests import fixtures_watchlists as fx
from tests.fixtures_live import page_as
from tests.helpers import SCREENSHOTS_DIR, data_path

SHOTS = SCREENSHOTS_DIR
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
OBAMA_2 = data_path("faces", "face_recognition", "examples", "knn_examples", "train", "obama")


@pytest.fixture
def browser(live_browser):
    return live_browser


def test_a_managers_home_shows_the_queue_and_reaches_the_entry_in_one_click(
    browser, live_server, users
):
    entry = fx.submit_entry(users.contributor, "S-1")
    fx.submit_entry(users.contributor, "S-2", result=fx.biden())
    page = page_as(browser, live_server, users.manager)
    page.goto("/")
    card = page.locator("[data-testid='waiting-watchlist.review']")
    assert card.locator("[data-testid=count]").inner_text() == "2"
    assert page.locator("nav [data-testid=nav-badge]").first.inner_text() == "2"
    page.screenshot(path=str(SHOTS / "home-manager.png"), full_page=True)
    card.locator(f"a[href='/watchlists/entries/{entry.pk}/']").click()
    page.wait_for_url(f"**/watchlists/entries/{entry.pk}/")
    assert "S-1" in page.inner_text("h1") + page.inner_text("main")


def test_an_officer_is_told_when_assigned_and_when_live(browser, live_server, users, plan):
    from datetime import timedelta

    from deployments import services

    values = plan()
    cameras = values.pop("cameras")
    d = services.deployment_create(
        by=users.command, cameras=cameras, officers=[users.officer], **values
    )
    page = page_as(browser, live_server, users.officer)
    page.goto("/")
    assert "You are assigned to " + d.reference in page.inner_text(
        "[data-testid='waiting-notice.unread']"
    )
    services.deployment_submit(deployment=d, by=users.command)
    d = services.deployment_authorise(deployment=d, by=users.authoriser)
    services.lifecycle_tick(now=d.starts_at + timedelta(seconds=1))
    page.goto("/")
    page.screenshot(path=str(SHOTS / "home-officer-notified.png"), full_page=True)
    page.click("nav >> text=Notices")
    notices = page.inner_text("[data-testid=notices]")
    assert f"{d.reference} at {d.site.name}" in notices and "is live now" in notices
    assert "You are assigned to" in notices
    page.screenshot(path=str(SHOTS / "notices-officer.png"), full_page=True)


def test_a_second_photo_for_a_held_subject_goes_through_the_page_and_its_approval(
    browser, live_server, users
):
    from watchlists.models import WatchlistEntry

    first = fx.approved_entry(users, "S-7")
    contributor = page_as(browser, live_server, users.contributor)
    contributor.goto("/watchlists/submit/")
    contributor.fill("input[name=subject_reference]", "S-7")  # the subject held already
    contributor.set_input_files("input[name=image]", str(OBAMA_2 / "obama2.jpg"))
    contributor.wait_for_selector("#verdict:has-text('Accepted')")
    contributor.select_option("select[name=category]", "wanted")
    contributor.fill("textarea[name=legal_basis]", "Warrant issued by the magistrates' court")
    contributor.fill("input[name=case_reference]", "OP-1234")
    contributor.fill("textarea[name=provenance]", "Custody photograph 2026")
    contributor.fill("input[name=taken_on]", "2026-05-01")
    contributor.click("#submit-form button[type=submit]")
    contributor.wait_for_url("**/watchlists/entries/*/")
    second = WatchlistEntry.objects.exclude(pk=first.pk).get()
    assert second.subject_id == first.subject_id and second.state == "pending"
    manager = page_as(browser, live_server, users.manager2)
    manager.goto("/watchlists/queue/?purpose=Review+of+new+entries")
    item = manager.locator(f"[data-entry='{second.pk}']")
    assert "Already held for this subject" in item.inner_text()
    manager.screenshot(path=str(SHOTS / "queue-second-photo.png"), full_page=True)
    item.locator("textarea[name=reason]").fill("Same person, more recent photo")
    item.locator("button:has-text('Approve')").click()
    manager.wait_for_load_state()
    second.refresh_from_db()
    assert second.state == "approved" and second.decided_by == users.manager2
    assert second.subject.entries.filter(state="approved").count() == 2


def test_an_api_token_is_created_used_with_curl_revoked_and_refused(browser, live_server, users):
    from tests.factories import make_deployment

    make_deployment(requested_by=users.command)
    page = page_as(browser, live_server, users.admin)
    page.goto("/accounts/tokens/")
    page.fill("[data-testid=token-form] input[name=name]", "Force RMS")
    page.select_option("[data-testid=token-form] select[name=role]", "command_staff")
    page.click("[data-testid=token-form] button[type=submit]")
    key = page.inner_text("[data-testid=token-key]")
    page.screenshot(path=str(SHOTS / "api-token-created.png"), full_page=True)

    def curl(key):
        out = subprocess.run(
            ["curl", "-s", "-w", "\n%{http_code}", "-H", f"Authorization: Bearer {key}",
             f"{live_server.url}/api/v1/deployments/"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        body, status = out.stdout.rsplit("\n", 1)
        return int(status), json.loads(body)

    status, body = curl(key)
    assert status == 200 and body["count"] == 1
    page.goto("/accounts/tokens/")
    page.click("[data-testid=tokens] button:has-text('Revoke')")
    page.wait_for_selector("text=revoked")
    status, body = curl(key)
    assert status == 401 and "revoked" in body["detail"]


def test_each_roles_home_page(browser, live_server, users, deployment_in_state, next_monday):
    from datetime import timedelta

    from tests.fixtures_console import make_alert

    fx.submit_entry(users.contributor, "S-1")
    deployment_in_state("submitted")
    live = deployment_in_state(
        "live", officers=[users.officer], starts_at=next_monday + timedelta(days=2, hours=10)
    )
    make_alert(live, nudge=False)
    for role in ("command", "authoriser", "contributor", "manager", "officer", "oversight",
                 "admin"):  # fmt: skip
        page = page_as(browser, live_server, getattr(users, role))
        page.goto("/")
        page.screenshot(path=str(SHOTS / f"home-{role}.png"), full_page=True)
        assert page.locator("h2:has-text('Waiting for you')").is_visible()
