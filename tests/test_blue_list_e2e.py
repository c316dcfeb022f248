"""Issue 16.7 in a real browser: a blue-list test alert's card says "TEST — do not
engage" and offers no decision, beside an operational alert that does."""

import re

import pytest
from django.utils import timezone

from deployments.models import DeploymentWatchlist
from tests import test_e2e_console as console
from tests.factories import make_deployment
from tests.fixtures_console import browser_password
from tests.helpers import SCREENSHOTS_DIR
from tests.test_e2e_console import login, open_console, raise_alert

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VOLUNTEER = 900_001
# The console tests' fixtures: a real browser, and the real server (lfr_demo).
browser = console.browser
server = console.server


@pytest.fixture
def blue_deployment(users):
    d = make_deployment(
        officers=[users.officer], requested_by=users.command, include_test_subjects=True
    )
    DeploymentWatchlist.objects.create(
        deployment=d,
        frozen_at=timezone.now(),
        entry_ids=[VOLUNTEER],
        subject_references=["BLUE-01"],
        test_entry_ids=[VOLUNTEER],
    )
    browser_password(users.officer)
    return d


def test_it_shows_a_test_alert_as_do_not_engage_without_a_decision(
    users, blue_deployment, server, browser
):
    test_alert = raise_alert(blue_deployment, entry_id=VOLUNTEER, subject="BLUE-01")
    real = raise_alert(blue_deployment)
    assert test_alert.is_test and not real.is_test
    page = login(browser, server, users.officer.username)
    open_console(page, blue_deployment)
    test_card = page.wait_for_selector(f"[data-testid=alert][data-seq='{test_alert.seq}']")
    real_card = page.wait_for_selector(f"[data-testid=alert][data-seq='{real.seq}']")
    badge = test_card.query_selector("[data-testid=test-badge]")
    assert badge and re.match(r"TEST — do not engage", badge.inner_text())
    assert test_card.query_selector("form[data-testid=decide]") is None
    assert test_card.query_selector("[data-testid=decision]") is None
    assert real_card.query_selector("[data-testid=test-badge]") is None
    assert real_card.query_selector("form[data-testid=decide]") is not None
    shot = SCREENSHOTS_DIR / "blue-list-test-card.png"
    page.screenshot(path=shot, full_page=True)
