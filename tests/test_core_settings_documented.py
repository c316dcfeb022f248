"""Every environment variable the product reads is listed in docs/CONFIGURATION.md, and
every variable listed there is read: the one place an operator looks stays in step."""

import re

from tests.helpers import ROOT

PRODUCT = ["core", "deployments", "lfr_site", "oversight", "recognition", "watchlists"]
# Read through lfr_site/env.py's typed helpers, os.environ, or a *_ENV name constant.
READ = re.compile(
    r"""(?:(?:env_\w+|secret_key)\(\s*|environ(?:\.get)?[\[(]\s*|_ENV\s*=\s*)["']([A-Z][A-Z0-9_]+)["']"""
)
# Set by the process itself, not by an operator (the FFmpeg options: the camera guard's).
INTERNAL = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "OPENCV_FFMPEG_CAPTURE_OPTIONS"}


def read_by_the_product():
    names = set()
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            names |= set(READ.findall(path.read_text(encoding="utf-8")))
    # The tests' own: where their artefacts go.
    names |= set(READ.findall((ROOT / "tests" / "helpers.py").read_text(encoding="utf-8")))
    return names - INTERNAL


def documented():
    text = (ROOT / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_it_documents_every_variable_the_product_reads():
    missing = sorted(read_by_the_product() - documented())
    assert missing == [], f"read but not in docs/CONFIGURATION.md: {missing}"


def test_it_documents_no_variable_the_product_does_not_read():
    stale = sorted(documented() - read_by_the_product())
    assert stale == [], f"in docs/CONFIGURATION.md but never read: {stale}"
