"""Multi-factor sign-in: TOTP devices and recovery codes (django-otp), for every role.

After the password a session is *signed in but not verified*: `MFARequiredMiddleware`
(pages and API), `MFAVerified` (DRF) and the console socket's connect check let it reach
nothing but the sign-in pages until a code from the user's confirmed TOTP device, or one
of their recovery codes (used up), has been entered. A user without a confirmed device
enrols first. Failed codes count against the same per-account and per-address limits as
failed passwords (django-otp's own back-off is off: it waits on the clock).

Who may reset a user's second factor: a holder of `manage_cameras` (the admin role, which
manages users), for *another* user only — resetting your own would let a stolen session
re-enrol a device of the thief's choosing; a second admin does it. A reset deletes the
devices and ends the user's sessions; the next sign-in enrols afresh.
"""

import base64
import secrets
import time

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.permissions import BasePermission

from core import demo, request_context, services
from core.models import AuditEvent

RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"


class ResetRefused(Exception):
    """A reset of one's own second factor (a second admin must do it)."""


# --- who is verified --------------------------------------------------------------------


def session_device(user, session) -> Device | None:
    """The confirmed device of `user` that verified this session, or None."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id or not getattr(user, "is_authenticated", False):
        return None
    device = Device.from_persistent_id(persistent_id)
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return device


def session_is_verified(user, session) -> bool:
    """The same rule for a websocket, from its scope's user and session."""
    if not settings.LFR_MFA_REQUIRED:
        return True
    return session_device(user, session) is not None


def is_verified(request) -> bool:
    """True when no second factor is needed, or this session has passed it."""
    user = request.user
    if not settings.LFR_MFA_REQUIRED or not user.is_authenticated:
        return True
    check = getattr(user, "is_verified", None)  # set by django-otp's OTPMiddleware
    if check is not None:
        return check()
    return session_is_verified(user, request.session)


def exempt_paths() -> set[str]:
    """Pages a signed-in, not yet verified session may reach: it must finish or leave."""
    return {reverse(name) for name in ("login", "logout", "mfa_verify", "mfa_enrol")}


def is_exempt(path: str) -> bool:
    # Static files and the public transparency pages hold nothing a half-signed-in user
    # should not see; anonymous requests (health probes, the public) never reach this
    # check at all, it is only for sessions past the password.
    return path in exempt_paths() or path.startswith((settings.STATIC_URL, "/transparency/"))


class MFAVerified(BasePermission):
    """DRF: an API call needs a verified session (the middleware refuses it first; this
    keeps the rule if an API view is ever mounted outside it)."""

    message = "Multi-factor verification required: enter a code from your authenticator."

    def has_permission(self, request, view):
        from core.models import ApiToken

        if isinstance(request.auth, ApiToken):
            return True  # a machine's credential: see core/tokens.py
        return is_verified(request)


# --- codes ------------------------------------------------------------------------------


def secret_base32(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def hex_from_base32(secret: str) -> str:
    """The inverse of `secret_base32` (the demo's credentials file keeps the typed form)."""
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded).hex()


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline SVG QR code (no image request, no CDN)."""
    import segno

    return segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#111")


def totp_code(key_hex: str, *, step: int | None = None) -> str:
    """The six-digit TOTP code for `key_hex` at `step` (default: now). Used by the demo's
    `totp` command and the browser helpers, which type codes as a person would."""
    totp = TOTP(bytes.fromhex(key_hex))
    if step is not None:
        totp.time = step * totp.step + totp.t0
    return f"{totp.token():06d}"


def current_step() -> int:
    return int(time.time()) // 30


# --- services -----------------------------------------------------------------------------


def confirmed_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def mfa_enrol_start(*, user) -> TOTPDevice:
    """The unconfirmed device being enrolled (the same key until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


@transaction.atomic
def mfa_enrol_confirm(*, request, code: str) -> list[str] | None:
    """Confirm the enrolling device with a code from it; return the recovery codes (shown
    once), or None when the code is wrong (counted like a failed password)."""
    user = request.user
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(_clean(code)):
        _failed(user, stage="enrol")
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _new_recovery_codes(user)
    _verified(request, device)
    services.login_succeeded(user=user, action="mfa.enrolled")
    # A demo user's line in var/demo_credentials.txt must not keep the key just replaced.
    username, secret = user.get_username(), secret_base32(device)
    transaction.on_commit(lambda: demo.credentials_key_update(username=username, secret=secret))
    return codes


@transaction.atomic
def mfa_verify(*, request, code: str, device: str | None = None) -> Device | None:
    """Verify this session with a TOTP code or a recovery code (which is used up);
    `device`: the known browser it comes from, whose failures count too."""
    known = device
    user, token = request.user, _clean(code)
    device = next(
        (
            d
            for d in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
            if d.verify_token(token)
        ),
        None,
    )
    method = "totp"
    if device is None:
        for static in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if static.verify_token(token):  # deletes the token it matched
                device, method = static, "recovery code"
                break
    if device is None:
        _failed(user, stage="verify", device=known)
        return None
    _verified(request, device)
    if method == "totp":
        services.login_succeeded(user=user, action="mfa.verified", details={"method": method})
    else:
        services.login_succeeded(
            user=user,
            action="mfa.recovery_code_used",
            details={"recovery_codes_left": device.token_set.count()},
        )
    return device


def _verified(request, device) -> None:
    """Mark the session verified under a new key: a key seen before the second factor
    (half-signed-in, on the sign-in pages) must not become a fully signed-in session."""
    otp_login(request, device)
    request.session.cycle_key()


def _clean(code: str) -> str:
    return "".join((code or "").split()).lower()[:32]


def _failed(user, *, stage: str, device: str | None = None) -> None:
    services.login_failed(
        username=user.get_username(),
        address=request_context.current()[1],
        action="mfa.failed",
        details={"stage": stage},
        device=device,
    )


@transaction.atomic
def mfa_reset(*, user, by, reason: str) -> int:
    """Delete `user`'s second factor and end their sessions: they enrol again."""
    if user.pk == by.pk:
        raise ResetRefused("a second administrator must reset your own second factor")
    removed = sum(
        model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
        for model in (TOTPDevice, StaticDevice)
    )
    ended = _end_sessions(user)
    services.audit_record(
        actor=by,
        action="mfa.reset",
        obj=user,
        outcome=AuditEvent.OUTCOME_ALLOWED,
        purpose=reason,
        details={"devices_removed": removed, "sessions_ended": ended},
    )
    return removed


def _end_sessions(user) -> int:
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    keys = [
        s.session_key
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(session_key__in=keys).delete()
    return len(keys)


def user_sessions_end(*, user) -> int:
    """End every session of `user` (a reset, a deactivation): they must sign in again."""
    return _end_sessions(user)


# --- demo ---------------------------------------------------------------------------------


def seed_confirmed_device(*, user) -> TOTPDevice:
    """A confirmed TOTP device for a demo user (the key is written to the credentials file)."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
