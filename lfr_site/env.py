"""Typed readers for environment variables that fail loudly, naming the variable.

Kept free of Django imports (beyond the exception) so settings.py can use them first.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in TRUE:
        return True
    if value.strip().lower() in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}")
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name} must be one of {', '.join(sorted(choices))}, got {value!r}"
        )
    return value


def env_names(name: str, default: list[str]) -> list[str]:
    """ "Name; Name" -> [Name]: a court's or a body's name holds commas, so ";" separates."""
    value = os.environ.get(name)
    if value is None:
        return default
    found = [item.strip() for item in value.split(";") if item.strip()]
    if not found:
        raise ImproperlyConfigured(f"{name} must name at least one authority, ';'-separated")
    return found


def env_subset(name: str, default: list[str], choices: list[str]) -> list[str]:
    """A comma-separated list whose every item is one of `choices` (order kept)."""
    found = env_list(name, default)
    unknown = [item for item in found if item not in choices]
    if unknown:
        raise ImproperlyConfigured(
            f"{name} items must be among {', '.join(choices)}, got {', '.join(unknown)}"
        )
    return list(dict.fromkeys(found))


# The two kinds of authority EU AI Act Art. 5(4) says each use is notified to.
AUTHORITY_KINDS = {"market_surveillance", "data_protection"}


def env_authorities(name: str, default: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """ "kind:Name; kind:Name" -> [(kind, name)]: names hold commas, so ";" separates."""
    value = os.environ.get(name)
    if value is None:
        return default
    found = []
    for item in (i.strip() for i in value.split(";")):
        if not item:
            continue
        kind, _, label = (part.strip() for part in item.partition(":"))
        if kind not in AUTHORITY_KINDS or not label:
            raise ImproperlyConfigured(
                f"{name} must be 'kind:Name' items separated by ';' with kind one of "
                f"{', '.join(sorted(AUTHORITY_KINDS))}, got {item!r}"
            )
        found.append((kind, label))
    if not found:
        raise ImproperlyConfigured(f"{name} must name at least one authority")
    return found


def parse_database_url(name: str, url: str) -> dict:
    """Turn DATABASE_URL into a Django DATABASES entry (sqlite:/// or postgres://)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if (
            path.startswith("/")
            and url.startswith("sqlite:///")
            and not url.startswith("sqlite:////")
        ):
            path = path[1:]  # sqlite:///var/db.sqlite3 is relative, sqlite:////abs is absolute
        if not path:
            raise ImproperlyConfigured(f"{name} has no file path: {url!r}")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # IMMEDIATE takes the write lock at BEGIN, so concurrent audit appends from
            # the server and the embedded worker serialise instead of failing.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        dbname = unquote(parsed.path.lstrip("/"))
        if not dbname or not parsed.hostname and "host" not in parse_qs(parsed.query):
            raise ImproperlyConfigured(
                f"{name} must look like postgres://user:password@host:port/dbname, got {url!r}"
            )
        try:
            port = parsed.port
        except ValueError:
            raise ImproperlyConfigured(f"{name} has a bad port: {url!r}")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": dbname,
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or options.pop("host", ""),
            "PORT": str(port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(f"{name} must start with sqlite:/// or postgres://, got {url!r}")


def secret_key(
    name: str,
    var_dir: Path,
    *,
    production: bool,
    filename: str = "secret_key",
    min_length: int = 50,
) -> str:
    """A secret from the environment; required in production, else generated once under
    var_dir (mode 0600) so the embedded default needs no variable."""
    value = os.environ.get(name)
    if value:
        if production and len(value) < min_length:
            raise ImproperlyConfigured(
                f"{name} must be at least {min_length} characters in production"
            )
        return value
    if production:
        raise ImproperlyConfigured(f"{name} must be set when LFR_ENV=production")
    path = var_dir / filename
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # Written 0600 under a temporary name, then linked into place (atomic, and refused
        # if it exists): two processes starting at once (the demo and a worker) end up
        # with one secret, fully written, never readable by other users.
        tmp = var_dir / f".{filename}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(64))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
