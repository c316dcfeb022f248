"""The accuracy page's evaluation upload in a real browser (the worker's run is done by the
test, as the queued task would)."""

import pytest

from recognition.models import EvaluationJob
from recognition.services.evaluation import evaluation_job_run
from tests.fixtures_live import page_as
from tests.helpers import SCREENSHOTS_DIR
from tests.test_evaluation_jobs import pairs_zip

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = SCREENSHOTS_DIR


def test_it_uploads_a_pairs_set_follows_it_and_opens_the_run(
    users, live_browser, live_server, tmp_path
):
    archive = tmp_path / "three.zip"
    archive.write_bytes(pairs_zip())
    page = page_as(live_browser, live_server, users.oversight)
    page.goto("/oversight/reports/accuracy/")
    page.screenshot(path=SHOTS / "i15-eval-empty.png", full_page=True)
    page.get_by_test_id("no-runs").get_by_role("link").click()
    page.set_input_files("input[name=archive]", str(archive))
    page.screenshot(path=SHOTS / "i15-eval-form.png", full_page=True)
    page.click("text=Start evaluation")
    page.wait_for_selector("[data-testid=import-status]:has-text('Queued')")
    page.screenshot(path=SHOTS / "i15-eval-queued.png", full_page=True)
    evaluation_job_run(job_id=EvaluationJob.objects.get().pk)
    page.wait_for_selector("[data-testid=evaluation-run]", timeout=15_000)  # the poll reloads
    page.screenshot(path=SHOTS / "i15-eval-done.png", full_page=True)
    page.get_by_test_id("evaluation-run").get_by_role("link").click()
    page.wait_for_selector("[data-testid=operating-point]")
    page.screenshot(path=SHOTS / "i15-eval-run.png", full_page=True)
