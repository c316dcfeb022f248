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
