"""Issue 26.6 in a real browser against daphne: Redoc renders from this site alone (no
font, logo or script from outside, nothing the policy blocks), and the server logs an
ordinary 403 as one line."""

from urllib.parse import urlsplit

import pytest

from tests.fixtures_console import Daphne, browser_password
from tests.helpers import SCREENSHOTS_DIR, subprocess_env
from tests.test_e2e_console import browser, login  # noqa: F401 (browser is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAIT = 30_000  # ms: a deadline for each condition, never a delay


@pytest.fixture
def server(tmp_path, users):
    browser_password(users.command, users.oversight)
    log = tmp_path / "daphne.log"
    srv = Daphne(subprocess_env(LFR_VAR_DIR=str(tmp_path / "var")), log)
    srv.log_path = log
    yield srv
    srv.stop()


def test_redoc_renders_from_this_site_alone(server, browser):  # noqa: F811
    page = login(browser, server, "cmd")
    outside, errors = [], []
    host = urlsplit(server.url).netloc
    page.on(
        "request",
        lambda r: (
            urlsplit(r.url).scheme in ("http", "https")
            and urlsplit(r.url).netloc != host
            and outside.append(r.url)
        ),
    )
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto("/api/redoc/")
    page.wait_for_selector("h1:has-text('lfr API')", timeout=WAIT)
    page.wait_for_selector("text=/api/v1/deployments/", timeout=WAIT)
    page.screenshot(path=str(SCREENSHOTS_DIR / "api_redoc.png"))
    assert outside == [] and errors == []


def test_the_server_logs_a_403_as_one_line(server, browser):  # noqa: F811
    page = login(browser, server, "ovs")
    response = page.goto("/deployments/new/")  # oversight may read plans, not make one
    assert response.status == 403
    page.goto("/")  # a later request: the 403's log line is written by then
    log = server.log_path.read_text()
    forbidden = [line for line in log.splitlines() if "Forbidden" in line]
    assert len(forbidden) == 1 and "/deployments/new/" in forbidden[0]
    assert "Traceback" not in log
