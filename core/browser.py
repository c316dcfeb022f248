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


# TOTP steps already typed, per (username, key): a code is accepted once, so a second
# sign-in within the same 30 s step types the next step's code (the device accepts one
# step ahead). Nothing waits for the clock.
_TYPED_STEPS: dict[tuple[str, str], int] = {}


def enter_code(page, username: str, key_hex: str) -> None:
    """Type the current TOTP code for `key_hex` into the second-factor page."""
    from core.mfa import current_step, totp_code

    now, typed = current_step(), _TYPED_STEPS.get((username, key_hex), -1)
    for step in [s for s in (now, now + 1) if s > typed] or [now, now + 1]:
        page.fill("input[name=code]", totp_code(key_hex, step=step))
        with page.expect_navigation():
            page.click("form:has(input[name=code]) button[type=submit]")
        if not page.query_selector("input[name=code]"):
            _TYPED_STEPS[(username, key_hex)] = step
            return
    raise AssertionError(f"the second factor of {username} was refused")


def sign_in_browser(page, username: str, password: str, key_hex: str) -> None:
    """Sign in through the forms as a person would: password, then the authenticator code."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    enter_code(page, username, key_hex)
