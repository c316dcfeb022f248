import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from core import access
from tests.helpers import PASSWORD, make_user, sign_in

# Child processes (servers, workers) append to the test database's chain: they seal it
# with this process's key, and checkpoint into a file of their own, never var/'s.
os.environ.setdefault("LFR_AUDIT_KEY", settings.LFR_AUDIT_KEY)
os.environ.setdefault(
    "LFR_AUDIT_CHECKPOINT_FILE",
    str(Path(tempfile.gettempdir()) / f"lfr-test-audit-checkpoints-{os.getpid()}.jsonl"),
)

pytest_plugins = [
    "tests.fixtures_watchlists",
    "tests.fixtures_deployments",
    "tests.fixtures_recognition",
    "tests.fixtures_console",
    "tests.fixtures_oversight",
    "tests.fixtures_live",
]


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [
        f"lfr: database {db['ENGINE'].rsplit('.', 1)[-1]} ({db['NAME']}), "
        f"broker {settings.CELERY_BROKER_URL.split('@')[-1]}, channel layer {layer}",
        f"lfr: sample data {settings.LFR_DATA_DIR}",
    ]


@pytest.fixture
def users(db):
    """One user per role, plus an outsider with no role (alice-bob-charlie, lfr edition)."""

    class Users:
        command = make_user("cmd", access.COMMAND_STAFF)
        command2 = make_user("cmd2", access.COMMAND_STAFF)
        authoriser = make_user("auth", access.AUTHORISING_OFFICER)
        contributor = make_user("contrib", access.WATCHLIST_CONTRIBUTOR)
        manager = make_user("mgr", access.WATCHLIST_MANAGER)
        manager2 = make_user("mgr2", access.WATCHLIST_MANAGER)
        officer = make_user("off", access.OFFICER)
        officer2 = make_user("off2", access.OFFICER)
        oversight = make_user("ovs", access.OVERSIGHT)
        admin = make_user("adm", access.ADMIN, is_staff=True)
        nobody = make_user("nobody")

    return Users


@pytest.fixture
def login(client):
    def _login(user):
        return sign_in(client, user)

    return _login


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s a user; tests create many users and test no hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    # The cache is the process's (LocMemCache): a chain verification cached by one test
    # (a broken chain, in the attack tests) was shown by a later test's audit page.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _audit_checkpoints(settings, tmp_path):
    # A checkpoint anchors one database's chain, and every test starts from an empty one:
    # checkpoints left by an earlier test would read as the newest rows deleted.
    settings.LFR_AUDIT_CHECKPOINT_FILE = tmp_path / "audit_checkpoints.jsonl"


@pytest.fixture(autouse=True)
def _cameras_may_use_loopback(monkeypatch, settings):
    # The suite's stream servers listen on 127.0.0.1; production refuses loopback cameras
    # (recognition/engine/netguard.py). Set in the settings, and in the environment so the
    # suite's subprocesses (workers, demo) inherit it; tests/test_hardening_ssrf.py
    # switches it off.
    monkeypatch.setenv("LFR_CAMERA_ALLOW_LOOPBACK", "1")
    settings.LFR_CAMERA_ALLOW_LOOPBACK = True


@pytest.fixture(autouse=True)
def _no_notice_lead(settings, monkeypatch):
    # Plans in tests start within days; a notice lead would make every authorisation ask
    # why no advance notice was given. Tests of the notice rules set a lead themselves.
    # In the environment too, for the suite's servers.
    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 0
    monkeypatch.setenv("LFR_PUBLIC_NOTICE_LEAD_DAYS", "0")


@pytest.fixture(autouse=True)
def _var_dir_of_the_test(settings, tmp_path_factory):
    # What code writes under VAR_DIR while it runs (the demo's credentials file) goes to a
    # folder of the suite's, never to the checkout's var/ that `make demo` reads.
    settings.VAR_DIR = tmp_path_factory.getbasetemp() / "var"
    settings.VAR_DIR.mkdir(exist_ok=True)
