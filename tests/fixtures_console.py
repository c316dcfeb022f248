"""Shared pytest fixtures for the live console (registered in tests/conftest.py)."""

import io
import itertools
import socket
import subprocess
import time
import urllib.request

import pytest
from django.utils import timezone

from tests import factories
from tests.factories import make_deployment
from tests.helpers import PASSWORD, PYTHON, ROOT, faces, sign_in, totp_device
from watchlists.models import ReferenceImage, Subject, WatchlistEntry

_numbers = itertools.count(1)
ORIGIN = (b"origin", b"http://testserver")


def jpeg_of(name: str) -> bytes:
    """A sample image re-encoded as JPEG (what intake stores for a reference image)."""
    from PIL import Image

    out = io.BytesIO()
    Image.open(faces("examples", name)).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def reference_entry(users, name: str) -> WatchlistEntry:
    """An approved watchlist entry holding one reference image (no encoding needed here)."""
    n = next(_numbers)
    subject = Subject.objects.create(
        reference=f"S-{n}", display_name=name, created_by=users.contributor
    )
    entry = WatchlistEntry.objects.create(
        subject=subject,
        category="wanted",
        legal_basis="PACE s.24",
        case_reference=f"CASE-{n}",
        provenance="custody image",
        state=WatchlistEntry.State.APPROVED,
        submitted_by=users.contributor,
        decided_by=users.manager,
        decided_at=timezone.now(),
    )
    ReferenceImage.objects.create(
        entry=entry,
        jpeg=jpeg_of(name),
        pixel_sha256=f"{n:064d}",
        width=1,
        height=1,
        face_px=100,
        sharpness=100,
        pose_score=0,
    )
    return entry


# An alert as the stream side commits it: the one factory, through alert_raise.
make_alert = factories.make_alert


@pytest.fixture
def console_deployment(users):
    """A live deployment with `users.officer` assigned."""
    return make_deployment(officers=[users.officer], requested_by=users.command)


@pytest.fixture
def session_cookie(client):
    """Log a user in through Django and return the Cookie header a browser would send."""

    def _cookie(user) -> tuple[bytes, bytes]:
        sign_in(client, user)
        return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())

    return _cookie


def browser_password(*users) -> None:
    """Give users PASSWORD hashed the way the server checks it, and an authenticator.

    Tests hash with MD5 for speed (tests/conftest.py); a server subprocess only knows
    the production hashers, so a user who logs in through a browser needs this.
    """
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    for user in users:
        user.password = hasher.encode(PASSWORD, hasher.salt())
        user.save(update_fields=["password"])
        totp_device(user)  # the browser types codes from the known TOTP_KEY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`manage.py lfr_demo` (ASGI server + embedded worker) on the test database."""

    def command(self) -> list[str]:
        return [PYTHON, "manage.py", "lfr_demo", "--port", str(self.port), "--concurrency", "2"]

    def __init__(self, env: dict, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2).read()
                if self.proc.poll() is not None:
                    # Something else answered on the port this server could not bind.
                    raise RuntimeError(f"lfr_demo exited; another server holds {self.port}")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"lfr_demo did not start; see {log_path}") from None
                time.sleep(0.3)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Daphne(Server):
    """The ASGI app served by daphne alone (no embedded worker), as in production."""

    def command(self) -> list[str]:
        return [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                "lfr_site.asgi:application"]  # fmt: skip
