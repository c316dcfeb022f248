"""In chromium: a subject seen again raises its card's sighting count live, no new card."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import test_e2e_console as e2e
from tests.fixtures_console import reference_entry

# The console browser tests' fixtures, shared.
browser, server, cut_deployment = e2e.browser, e2e.server, e2e.cut_deployment
SHOTS, login, open_console, raise_alert = e2e.SHOTS, e2e.login, e2e.open_console, e2e.raise_alert

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def wanted(users):
    return reference_entry(users, "obama.jpg")


def test_it_counts_sightings_on_one_card_live(users, cut_deployment, wanted, server, browser):
    deployment = cut_deployment
    start = timezone.now()

    def sighting(n, distance=0.42):
        return raise_alert(
            deployment,
            entry_id=wanted.pk,
            subject=wanted.subject.reference,
            distance=distance,
            frame_at=start + timedelta(seconds=10 * n),
        )

    page = login(browser, server, users.officer.username)
    open_console(page, deployment)
    first = sighting(0)
    card = page.wait_for_selector(f"[data-testid=alert][data-seq='{first.seq}']")
    assert card.query_selector("[data-testid=subject]").inner_text().startswith("obama.jpg")
    assert wanted.case_reference in card.query_selector("[data-testid=subject]").inner_text()
    assert card.query_selector("img[alt=Watchlist]")
    for n in range(1, 4):
        again = sighting(n, distance=0.42 - n / 100)
        assert again.pk == first.pk
        page.wait_for_selector(f"[data-testid=sightings][data-count='{n + 1}']", timeout=30_000)
    assert page.eval_on_selector_all("[data-testid=alert]", "els => els.length") == 1
    line = card.query_selector("[data-testid=sightings]").inner_text()
    assert line.startswith("Seen 4 times")
    assert "distance 0.390" in card.query_selector("[data-testid=score-line]").inner_text()
    page.screenshot(path=SHOTS / "console-sightings.png", full_page=True)
