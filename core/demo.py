"""Demo users, one per role: created once, their passwords printed once."""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import access

DEMO_USERS = [
    ("command", "Casey Command", access.COMMAND_STAFF),
    ("authoriser", "Alex Authoriser", access.AUTHORISING_OFFICER),
    ("contributor", "Chris Contributor", access.WATCHLIST_CONTRIBUTOR),
    ("manager", "Morgan Manager", access.WATCHLIST_MANAGER),
    ("officer", "Olive Officer", access.OFFICER),
    ("officer2", "Omar Officer", access.OFFICER),
    ("oversight", "Olu Oversight", access.OVERSIGHT),
    ("admin", "Ada Admin", access.ADMIN),
]


def credentials_path():
    return settings.VAR_DIR / "demo_credentials.txt"


def seed_users(stdout=None) -> list[tuple[str, str, str, str]]:
    """Create missing demo users, each with a confirmed authenticator (TOTP) device; return
    (username, password, role, TOTP key in base32) of those created."""
    from core import mfa

    User = get_user_model()
    created = []
    for username, full_name, role in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        first, last = full_name.split(" ", 1)
        password = "-".join(secrets.token_hex(3) for _ in range(3))
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first,
            last_name=last,
        )
        user.groups.add(Group.objects.get(name=role))
        device = mfa.seed_confirmed_device(user=user)
        created.append((username, password, role, mfa.secret_base32(device)))
    if created:
        path = credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            for username, password, role, secret in created:
                fh.write(f"{username}\t{password}\t{access.ROLE_LABELS[role]}\t{secret}\n")
        path.chmod(0o600)
    return created


def credentials_key_update(*, username: str, secret: str) -> bool:
    """A demo user enrolled a new authenticator: their line in the credentials file gets
    the new key, so the file never hands out a key that no longer works. False when the
    file has no line for them (not a demo user, or no demo on this machine)."""
    path = credentials_path()
    if not path.exists():
        return False
    lines = path.read_text().splitlines()
    changed = False
    for i, line in enumerate(lines):
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] == username and parts[3] != secret:
            lines[i] = "\t".join([*parts[:3], secret])
            changed = True
    if changed:
        partial = path.with_name(path.name + ".part")
        partial.write_text("".join(f"{line}\n" for line in lines))
        partial.chmod(0o600)
        os.replace(partial, path)
    return changed
