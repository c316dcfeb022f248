"""Small helpers shared by tests: real images, users per role, subprocess environments."""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from core import browser

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-9"


def data_path(*parts) -> Path:
    """A file under LFR_DATA_DIR; fails loudly (never skips) when the sample data is missing."""
    path = Path(settings.LFR_DATA_DIR, *parts)
    if not path.exists():
        raise FileNotFoundError(
            f"sample data not found: {path}. Set LFR_DATA_DIR to the shared data folder."
        )
    return path


def faces(*parts) -> Path:
    return data_path("faces", "face_recognition", *parts)


def make_user(username: str, *roles: str, **extra):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


def subprocess_env(**overrides) -> dict:
    """Environment for a child process that must use the *test* database and Redis."""
    env = dict(os.environ)
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        env["DATABASE_URL"] = (
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:////{str(db['NAME']).lstrip('/')}"
    env["PYTHONPATH"] = str(ROOT)
    env.update(overrides)
    return env


PYTHON = sys.executable
ARTIFACTS_DIR = Path(os.environ.get("LFR_ARTIFACTS_DIR", ROOT / "artifacts"))
SCREENSHOTS_DIR = ARTIFACTS_DIR / "screenshots"


def launch_chromium(playwright):
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return browser.launch_chromium(playwright)


# RFC 6238's test key: browser tests and the soak type codes computed from it.
TOTP_KEY = "3132333435363738393031323334353637383930"


def totp_device(user):
    """`user`'s confirmed authenticator, with the known TOTP_KEY."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.update_or_create(
        user=user, name="test", defaults={"key": TOTP_KEY, "confirmed": True}
    )
    return device


def sign_in(client, user):
    """A fully signed-in session: `force_login` plus a verified second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY

    device = totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def until(what, condition, seconds=60.0, *, poll=0.05, during=None, on_timeout=None):
    """Poll `condition` until it returns something truthy, and return that; fail at the
    deadline with `what` (and `on_timeout()`'s text, e.g. worker logs). Never a fixed sleep:
    `poll` is only the pause between looks. `during()` runs between looks (e.g. a nudge)."""
    import time

    import pytest
    from django.db import close_old_connections

    deadline = time.monotonic() + seconds
    while True:
        close_old_connections()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out waiting for {what}" + (f"\n{on_timeout()}" if on_timeout else "")
            )
        if during:
            during()
        time.sleep(poll)
