"""Debian's chromium for the browser tests, the soak check and the alert benchmark.

Never a browser downloaded by Playwright: `make test` installs the distribution's
package. The flags keep a headless root browser from reaching for the network, which
this machine's closed network refuses many times a start.
"""

import os
from pathlib import Path

CHROMIUM = os.environ.get("LFR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright):
    """A Playwright browser on Debian's chromium; FileNotFoundError if it is missing."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: apt-get install chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
