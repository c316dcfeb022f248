"""The soak check runs end to end for a fraction of a minute (`manage.py soak`)."""

import subprocess
import sys

import pytest

from tests.helpers import ROOT


@pytest.mark.slow
@pytest.mark.e2e
def test_it_soaks_the_embedded_demo_briefly_and_prints_its_figures(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "soak", "--seconds", "20", "--var-dir", tmp_path],
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = tmp_path / "soak-server.log"
    # On failure, say why: the soak's own report and the end of the server's log.
    out = result.stdout + result.stderr + (log.read_text()[-4000:] if log.exists() else "")
    for figure in (
        "crashes:",
        "5xx responses:",
        "database is locked:",
        "decisions made:",
        "p95 page time:",
        "orphan processes after Ctrl-C:",
    ):
        assert figure in out, out
    assert result.returncode == 0, out
