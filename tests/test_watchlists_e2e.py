"""The submit form's live quality check and the review queue in a real browser."""

import pytest

from tests import fixtures_watchlists as fx
from tests.fixtures_live import page_as as live_page_as
from tests.helpers import SCREENSHOTS_DIR, data_path, faces
from watchlists.models import WatchlistEntry

SHOTS = SCREENSHOTS_DIR
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def browser(live_browser):
    return live_browser


def page_as(browser, client, live_server, user):
    return live_page_as(browser, live_server, user, client)


def test_it_checks_the_image_at_once_then_submits(browser, client, live_server, users):
    page = page_as(browser, client, live_server, users.contributor)
    page.goto(f"{live_server.url}/watchlists/submit/")
    page.set_input_files("input[name=image]", str(faces("examples", "two_people.jpg")))
    page.wait_for_selector("#verdict.error")
    assert "multiple_faces" in page.inner_text("#verdict")
    page.set_input_files("input[name=image]", str(faces("examples", "obama.jpg")))
    page.wait_for_selector("#verdict.ok")
    assert "Accepted" in page.inner_text("#verdict")
    page.wait_for_selector("#facebox", state="visible")
    assert not WatchlistEntry.objects.exists()  # the check stored nothing
    page.fill("input[name=subject_reference]", "S-42")
    page.fill("input[name=display_name]", "Barack Obama")
    page.select_option("select[name=category]", "wanted")
    page.fill("textarea[name=legal_basis]", "Warrant issued by Westminster Magistrates")
    page.fill("input[name=case_reference]", "OP-4242")
    page.fill("textarea[name=provenance]", "Custody photograph")
    page.fill("input[name=taken_on]", "2026-05-01")
    page.screenshot(path=str(SHOTS / "watchlists_submit_check.png"), full_page=True)
    page.click("#submit-form button[type=submit]")
    page.wait_for_url("**/watchlists/entries/*/")
    page.wait_for_load_state("networkidle")
    page.close()
    assert WatchlistEntry.objects.get().state == "pending"


def test_it_shows_the_candidate_beside_existing_images(browser, client, live_server, users):
    fx.approved_entry(users, "S-1")
    another_photo = fx.inspected("examples", "knn_examples", "train", "obama", "obama2.jpg")
    fx.submit_entry(users.contributor, "S-1", result=another_photo)
    page = page_as(browser, client, live_server, users.manager)
    page.goto(f"{live_server.url}/watchlists/queue/")
    page.fill("input[name=purpose]", "Daily review of the queue")
    page.click("[data-testid=purpose-form] button")
    page.wait_for_selector("img[data-testid=ref-image]")
    # Both images come through the purpose-gated view and actually decode.
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('img[data-testid=ref-image]')];"
        " return imgs.length === 2 && imgs.every(i => i.complete && i.naturalWidth > 0); }"
    )
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / "watchlists_queue.png"), full_page=True)
    page.close()


def test_it_warns_at_once_of_the_same_face_under_another_subject(
    browser, client, live_server, users
):
    fx.approved_entry(users, "S-1", result=fx.openface("clapton-1.jpg"))
    page = page_as(browser, client, live_server, users.contributor)
    page.goto(f"{live_server.url}/watchlists/submit/")
    page.fill("input[name=subject_reference]", "S-2")
    page.set_input_files(
        "input[name=image]",
        str(data_path("faces", "openface", "images", "examples", "clapton-1.jpg")),
    )
    page.wait_for_selector("[data-testid=near-warning]")
    assert "S-1" in page.inner_text("#verdict")
    page.screenshot(path=str(SHOTS / "watchlists_submit_near_match.png"), full_page=True)
    page.close()


def test_a_bulk_import_shows_its_progress_and_report(browser, client, live_server, users, tmp_path):
    from tests.test_watchlists_bulk_import import train_zip
    from watchlists.models import ImportJob
    from watchlists.services import bulk

    archive = tmp_path / "train.zip"
    archive.write_bytes(train_zip())
    page = page_as(browser, client, live_server, users.contributor)
    page.goto(f"{live_server.url}/watchlists/import/")
    page.set_input_files("input[name=archive]", str(archive))
    page.select_option("select[name=category]", "wanted")
    page.fill("textarea[name=legal_basis]", "Warrants issued by the magistrates' court")
    page.fill("textarea[name=provenance]", "Custody photographs")
    page.click("[data-testid=import-form] button[type=submit]")
    page.wait_for_selector("[data-testid=import-bar]")
    assert page.get_attribute("[data-testid=import-bar]", "value") == "0"
    job = ImportJob.objects.get()
    bulk.import_job_run(job_id=job.pk)  # the worker's part, done here so the test owns it
    page.wait_for_selector("[data-testid=import-report]", timeout=60_000)  # the page polled
    assert page.get_attribute("[data-testid=import-bar]", "value") == "100"
    report = page.inner_text("[data-testid=import-report]")
    assert "pending entries" in report and "biden" in report
    page.screenshot(path=str(SHOTS / "watchlist-bulk-import.png"), full_page=True)
