"""Writes owned by core: the audit chain and login throttling.

`audit_record` is the only code that writes AuditEvent rows.
"""

import hashlib
import json
from datetime import UTC, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core import request_context
from core.models import AuditEvent, LoginAddressThrottle, LoginThrottle

GENESIS = "0" * 64
# Any constant; it names the lock that serialises audit appends across processes.
_ADVISORY_LOCK_KEY = 0x1F5A_0D17

# Keys that must never reach the audit log: it is read by many and kept for years.
_FORBIDDEN_DETAIL_KEYS = {"encoding", "encodings", "embedding", "crop", "image", "landmarks"}


def _canonical(event: AuditEvent) -> str:
    return json.dumps(
        {
            "seq": event.seq,
            "at": event.at.astimezone(UTC).isoformat(),
            "actor_id": event.actor_id,
            "actor_username": event.actor_username,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "outcome": event.outcome,
            "purpose": event.purpose,
            "request_id": event.request_id,
            "client_addr": event.client_addr,
            "details": event.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def _hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _canonical(event)).encode()).hexdigest()


def audit_record(
    *,
    actor=None,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = AuditEvent.OUTCOME_ALLOWED,
    purpose: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call inside the transaction of the change it records."""
    details = dict(details or {})
    bad = _FORBIDDEN_DETAIL_KEYS & set(details)
    if bad:
        raise ValueError(f"audit details may not carry biometric data: {sorted(bad)}")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    request_id, client_addr = request_context.current()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    # Appends are serialised by the database alone: PostgreSQL's advisory lock, and on
    # SQLite the write lock every transaction takes at BEGIN (transaction_mode IMMEDIATE).
    # No process-local lock as well: taken in the opposite order by a caller already inside
    # a transaction (alert raised, decision recorded), it deadlocked against the database
    # lock until SQLite's busy timeout said "database is locked".
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        event = AuditEvent(
            seq=(last.seq + 1) if last else 1,
            at=timezone.now(),
            actor_id=actor.pk if authenticated else None,
            actor_username=actor.get_username() if authenticated else "",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            outcome=outcome,
            purpose=purpose,
            request_id=request_id,
            client_addr=client_addr,
            details=details,
            prev_hash=last.hash if last else GENESIS,
        )
        # Round-trip the details through JSON now so the hash is computed over exactly
        # what the database will give back when the chain is verified.
        event.details = json.loads(json.dumps(event.details, default=str))
        event.hash = _hash(event.prev_hash, event)
        event.save(force_insert=True)
    return event


def audit_verify(*, batch_size: int = 2000):
    """Walk the chain from the start; return (ok, checked, first bad event or None, why)."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return False, checked, event, f"sequence gap: expected #{expected_seq}"
        if event.prev_hash != prev_hash:
            return False, checked, event, "previous-hash link broken"
        if _hash(prev_hash, event) != event.hash:
            return False, checked, event, "content does not match its hash"
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    return True, checked, None, ""


# --- Login throttling -------------------------------------------------------------------
# Two counters: per username (LFR_LOGIN_MAX_FAILURES locks the account) and per client
# address (LFR_LOGIN_MAX_FAILURES_PER_ADDRESS in a window of LFR_LOGIN_LOCK_MINUTES blocks
# the address), so one address cannot lock account after account. Failures are audited one
# row each (bounded by both limits); refusals while locked are counted, and audited only at
# the 1st, 10th, 100th, ... and in full at the next successful login.


def _is_power_of_ten(n: int) -> bool:
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1


def login_is_locked(*, username: str) -> bool:
    row = LoginThrottle.objects.filter(username=username.lower()).first()
    return bool(row and row.locked_until and row.locked_until > timezone.now())


def login_address_is_locked(*, address: str) -> bool:
    if not address:
        return False
    row = LoginAddressThrottle.objects.filter(address=address).first()
    return bool(row and row.locked_until and row.locked_until > timezone.now())


def _address_failed(*, address: str, now) -> LoginAddressThrottle | None:
    if not address:
        return None
    row, _ = LoginAddressThrottle.objects.select_for_update().get_or_create(
        address=address, defaults={"window_started_at": now}
    )
    window = timedelta(minutes=settings.LFR_LOGIN_LOCK_MINUTES)
    if row.window_started_at + window <= now:
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= settings.LFR_LOGIN_MAX_FAILURES_PER_ADDRESS:
        row.locked_until = now + window
    row.save()
    return row


@transaction.atomic
def login_failed(
    *, username: str, address: str = "", action: str = "login.failed", details: dict | None = None
) -> LoginThrottle:
    """A failed password, or a failed second-factor code (`action="mfa.failed"`): both
    count against the same account and address limits."""
    now = timezone.now()
    details = dict(details or {})
    if len(username) > LoginThrottle._meta.get_field("username").max_length:
        # No account can have this name: the address counts it, no per-name row is kept
        # (it would not fit the column), and the audit row says how long it was.
        row = LoginThrottle(username=username[:80].lower(), failures=1)
        details["username_length"] = len(username)
        locked = False
    else:
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(
            username=username.lower()
        )
        row.failures += 1
        row.last_failure_at = now
        locked = row.failures >= settings.LFR_LOGIN_MAX_FAILURES
        if locked:
            row.locked_until = now + timedelta(minutes=settings.LFR_LOGIN_LOCK_MINUTES)
        row.save()
    by_address = _address_failed(address=address, now=now)
    audit_record(
        action=action,
        object_type="auth.user",
        object_id=username[:80],
        outcome=AuditEvent.OUTCOME_DENIED,
        details={
            **details,
            "failures": row.failures,
            "locked": locked,
            "address_failures": by_address.failures if by_address else None,
            "address_locked": bool(by_address and by_address.locked_until),
        },
    )
    return row


@transaction.atomic
def login_succeeded(
    *, user, action: str = "login.succeeded", details: dict | None = None, reset: bool = True
) -> None:
    """A step of sign-in passed. `reset=False` for the password when a second factor is
    still to come: failed codes must keep counting towards the lock."""
    throttle = LoginThrottle.objects.filter(username=user.get_username().lower()).first()
    details = dict(details or {})
    if throttle and throttle.refused:
        details["refused_while_locked"] = throttle.refused
    if reset:
        LoginThrottle.objects.filter(username=user.get_username().lower()).delete()
    audit_record(actor=user, action=action, obj=user, details=details)


@transaction.atomic
def login_refused_locked(*, username: str, address: str = "", by_address: bool = False) -> None:
    """An attempt refused unseen because the account (or the address) is locked."""
    if by_address:
        model, key = LoginAddressThrottle, {"address": address}
    else:
        model, key = LoginThrottle, {"username": username.lower()}
    model.objects.filter(**key).update(refused=F("refused") + 1)
    refused = model.objects.filter(**key).values_list("refused", flat=True).first() or 0
    if not _is_power_of_ten(refused):
        return
    audit_record(
        action="login.locked",
        object_type="auth.user",
        object_id=username[:80],
        outcome=AuditEvent.OUTCOME_DENIED,
        details={"refused": refused, "locked": "address" if by_address else "account"},
    )
