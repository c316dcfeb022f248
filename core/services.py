"""Writes owned by core: the audit chain and login throttling.

`audit_record` is the only code that writes AuditEvent rows.

The chain is keyed: each row's hash is HMAC-SHA256, under LFR_AUDIT_KEY (from the
environment, never in the database), of the previous row's hash and the row. Whoever can
write the table but has not the key cannot rewrite a row and re-hash the rows after it.
What a key cannot show on its own is the *end* of the chain: deleting the newest rows, or
every row, leaves a shorter chain that verifies. So the head is checkpointed outside the
table, signed with the same key: appended to LFR_AUDIT_CHECKPOINT_FILE by a beat task,
after every successful verification, and with every retention receipt (which also carries
it in its details); and the newest head is kept in `<that file>.head`, replaced after every
committed append, so no committed row is ever outside a checkpoint for longer than its own
commit takes. `audit_verify` walks the whole chain, checks it against every checkpoint,
names every row that does not verify (not only the first), and signs nothing it refused.

Rows written before the chain was keyed (migration 0005) keep plain SHA-256 hashes. Where
that epoch ends is recorded by a keyed row, `audit.pre_key_epoch_closed` (migration 0009):
an unkeyed row after the seq it names, or any unkeyed row with no such marker, is a row
re-hashed without the key, whether or not a checkpoint file survived.
"""

import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core import request_context
from core.models import AuditEvent, LoginAddressThrottle, LoginThrottle

logger = logging.getLogger("lfr.audit")

GENESIS = "0" * 64
# Any constant; it names the lock that serialises audit appends across processes.
_ADVISORY_LOCK_KEY = 0x1F5A_0D17

# Keys that must never reach the audit log: it is read by many and kept for years.
_FORBIDDEN_DETAIL_KEYS = {"encoding", "encodings", "embedding", "crop", "image", "landmarks"}
# Deletion receipts of the retention jobs carry a checkpoint of the head before them.
RECEIPT_PREFIX = "retention."
# The keyed row that closes the pre-key epoch; its details name the last unkeyed row.
EPOCH_ACTION = "audit.pre_key_epoch_closed"
# A report names this many bad rows one by one, then counts the rest.
MAX_ROWS_NAMED = 50


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


def _key() -> bytes:
    return settings.LFR_AUDIT_KEY.encode()


def audit_key_id(key: bytes | None = None) -> str:
    """A fingerprint of the key (not the key): stored on each row to name a wrong key."""
    return hmac.new(key or _key(), b"lfr-audit-key-id", hashlib.sha256).hexdigest()[:16]


def _hash(prev_hash: str, event: AuditEvent, key: bytes | None = None) -> str:
    message = (prev_hash + _canonical(event)).encode()
    if not event.key_id:  # written before the chain was keyed (migration 0005)
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key or _key(), message, hashlib.sha256).hexdigest()


def _checkpoint(seq: int, head_hash: str, *, reason: str, key: bytes | None = None) -> dict:
    body = {
        "seq": seq,
        "hash": head_hash,
        "at": timezone.now().astimezone(UTC).isoformat(),
        "reason": reason,
        "key_id": audit_key_id(key),
    }
    body["mac"] = _checkpoint_mac(body, key)
    return body


def _checkpoint_mac(body: dict, key: bytes | None = None) -> str:
    signed = {k: v for k, v in body.items() if k != "mac"}
    message = b"lfr-audit-checkpoint:" + json.dumps(signed, sort_keys=True).encode()
    return hmac.new(key or _key(), message, hashlib.sha256).hexdigest()


def _checkpoint_append(checkpoint: dict) -> None:
    """Append one line to the checkpoint file (created 0600) and log it: a log shipped off
    the machine is a second copy outside the database."""
    path = settings.LFR_AUDIT_CHECKPOINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(json.dumps(checkpoint, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    logger.info("audit checkpoint %s", json.dumps(checkpoint, sort_keys=True))


def _checkpoints_read() -> list[tuple[int, dict | None]]:
    """Every line of the checkpoint file as (line number, checkpoint or None if unreadable)."""
    path = settings.LFR_AUDIT_CHECKPOINT_FILE
    if not path.exists():
        return []
    lines = []
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                lines.append((number, json.loads(line)))
            except ValueError:
                lines.append((number, None))
    return lines


def _head_path():
    path = settings.LFR_AUDIT_CHECKPOINT_FILE
    return path.with_name(path.name + ".head")


def _head_read() -> dict | None:
    """The newest head checkpointed after an append; {} if the file is unreadable."""
    try:
        text = _head_path().read_text()
    except FileNotFoundError:
        return None
    try:
        checkpoint = json.loads(text)
    except ValueError:
        return {}
    return checkpoint if isinstance(checkpoint, dict) else {}


def _head_write(seq: int, head_hash: str) -> None:
    """Replace the head file with a checkpoint of (seq, hash) unless it already has a later
    one. Written after the commit (never ahead of the table); under a lock, so processes
    appending at once never put an older head over a newer one."""
    path = _head_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:  # the row stands; the next verification or beat checkpoints it
        logger.warning("audit head checkpoint not written: %s", exc)
        return
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = _head_read()
        if current and isinstance(current.get("seq"), int) and current["seq"] >= seq:
            return
        checkpoint = _checkpoint(seq, head_hash, reason="append")
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(checkpoint, sort_keys=True))
        os.replace(tmp, path)
    finally:
        os.close(lock)


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
        if last is not None and action.startswith(RECEIPT_PREFIX):
            checkpoint = _checkpoint(last.seq, last.hash, reason=action)
            details["audit_checkpoint"] = checkpoint
            # robust: a checkpoint file that cannot be written is logged, and the receipt
            # (already committed, and carrying the checkpoint itself) stands.
            transaction.on_commit(lambda: _checkpoint_append(checkpoint), robust=True)
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
            key_id=audit_key_id(),
        )
        # Round-trip the details through JSON now so the hash is computed over exactly
        # what the database will give back when the chain is verified.
        event.details = json.loads(json.dumps(event.details, default=str))
        event.hash = _hash(event.prev_hash, event)
        event.save(force_insert=True)
        # Each row its own callback: one for the last row of the transaction would be lost
        # with a savepoint rolled back around that row (Django drops its callbacks), and a
        # head naming a row that was rolled back would read as rows deleted.
        seq, digest = event.seq, event.hash
        transaction.on_commit(lambda: _head_write(seq, digest), robust=True)
    return event


@transaction.atomic
def audit_pre_key_epoch_close(*, model=AuditEvent) -> int | None:
    """Append the keyed row that says where the unkeyed epoch ends (migration 0009 calls
    it with its historical model); None when there is nothing to close or it is closed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    unkeyed = model.objects.filter(key_id="").order_by("-seq").first()
    if unkeyed is None or model.objects.filter(action=EPOCH_ACTION).exists():
        return None
    last = model.objects.order_by("-seq").first()
    event = model(
        seq=last.seq + 1,
        at=timezone.now(),
        actor_id=None,
        actor_username="",
        action=EPOCH_ACTION,
        object_type="core.auditevent",
        object_id="",
        outcome=AuditEvent.OUTCOME_ALLOWED,
        purpose="",
        request_id="",
        client_addr="",
        details={"pre_key_last_seq": unkeyed.seq},
        prev_hash=last.hash,
        key_id=audit_key_id(),
    )
    event.hash = _hash(event.prev_hash, event)
    event.save(force_insert=True)
    return unkeyed.seq


def audit_checkpoint_write(*, reason: str, head: tuple[int, str] | None = None) -> dict | None:
    """Checkpoint the chain's head (or the given (seq, hash)) in the file, unless the last
    checkpoint already has it."""
    if head is None:
        row = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        if row is None:
            return None
        head = (row.seq, row.hash)
    readable = [c for _, c in _checkpoints_read() if c is not None]
    if readable and readable[-1].get("seq") == head[0]:
        return None
    checkpoint = _checkpoint(*head, reason=reason)
    _checkpoint_append(checkpoint)
    return checkpoint


@dataclass
class ChainReport:
    """What one walk of the chain found: every row that does not verify, and what else is
    wrong (the tail, the checkpoint files)."""

    checked: int = 0  # rows verified before the first bad one (all of them when intact)
    walked: int = 0
    unkeyed: int = 0
    head_seq: int = 0
    checkpoints: int = 0
    bad: AuditEvent | None = None
    bad_seqs: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _checkpoints_trusted(report: ChainReport, key_id: str) -> list[tuple[dict, str, bool]]:
    """Every checkpoint whose MAC verifies, with where it was read and whether it is a line
    of the checkpoint file (not the head file); the others reported."""
    found = [
        (cp, f"checkpoint line {number} of {settings.LFR_AUDIT_CHECKPOINT_FILE}", True)
        for number, cp in _checkpoints_read()
    ]
    head = _head_read()
    if head is not None:
        found.append((head or None, f"head checkpoint {_head_path()}", False))
    trusted = []
    for cp, where, line in found:
        if cp is None or not isinstance(cp.get("seq"), int) or "mac" not in cp:
            report.problems.append(f"{where} is unreadable")
            continue
        if not hmac.compare_digest(str(cp["mac"]), _checkpoint_mac(cp)):
            other = " (it names another key)" if cp.get("key_id") != key_id else ""
            report.problems.append(
                f"{where} (#{cp['seq']}) does not verify under LFR_AUDIT_KEY{other}: forged, "
                "or the wrong key"
            )
            continue
        trusted.append((cp, where, line))
    report.checkpoints = len(trusted)
    return trusted


def _row_problem(event, prev_seq, prev_hash, key_id, expected, keyed_seen) -> str | None:
    """Why this row does not verify on its own and against its neighbour, or None.

    Each row is judged by its stored link: a bad row does not condemn the rows after it,
    so one junk row (the app role may INSERT) cannot hide a later edit."""
    if event.seq != prev_seq + 1:
        return f"sequence gap: #{prev_seq + 1} to #{event.seq - 1} are missing"
    if event.prev_hash != prev_hash:
        return "previous-hash link broken"
    if event.key_id and event.key_id != key_id:
        return (
            f"sealed with key {event.key_id}, but LFR_AUDIT_KEY is key {key_id}: "
            "wrong key configured (or the row was re-keyed by someone else)"
        )
    if not hmac.compare_digest(_hash(event.prev_hash, event), event.hash):
        return (
            "content does not match its keyed hash: the row was altered, or re-hashed "
            "without the key"
            if event.key_id
            else "content does not match its hash"
        )
    if not event.key_id and keyed_seen:
        return "an unkeyed row after keyed rows: a keyed row was re-hashed without the key"
    for digest, where in expected.get(event.seq, ()):
        if digest != event.hash:
            return f"differs from {where}: rewritten after it was checkpointed"
    return None


def audit_chain_check(*, batch_size: int = 2000, checkpoint: bool = True) -> ChainReport:
    """Walk the whole chain and check it against every checkpoint; when it is intact,
    checkpoint its head (so rows deleted from the end later are seen)."""
    report = ChainReport()
    key_id = audit_key_id()
    trusted = _checkpoints_trusted(report, key_id)
    expected: dict[int, list[tuple[str, str]]] = {}  # seq -> [(hash, where it was seen)]
    for cp, where, _ in trusted:
        expected.setdefault(cp["seq"], []).append((cp["hash"], f"{where} ({cp.get('at')})"))
    in_file = {(cp["seq"], cp["hash"]) for cp, _, line in trusted if line}
    latest = max((cp for cp, _, _ in trusted), key=lambda cp: cp["seq"], default=None)
    receipts: list[tuple[int, dict]] = []

    bad: list[tuple[int, int, str]] = []  # (seq, rows walked before it, why)
    unkeyed: list[tuple[int, int]] = []  # (seq, rows walked before it)
    epoch_end, keyed_seen = None, False
    prev_seq, prev_hash = 0, GENESIS
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        why = _row_problem(event, prev_seq, prev_hash, key_id, expected, keyed_seen)
        if why:
            bad.append((event.seq, report.walked, why))
        elif event.key_id:
            keyed_seen = True
            if event.action == EPOCH_ACTION and epoch_end is None:
                epoch_end = event.details.get("pre_key_last_seq")
        else:
            unkeyed.append((event.seq, report.walked))
        if event.action.startswith(RECEIPT_PREFIX) and "audit_checkpoint" in event.details:
            receipts.append((event.seq, event.details["audit_checkpoint"]))
        report.walked += 1
        report.head_seq, prev_seq, prev_hash = event.seq, event.seq, event.hash
    # The pre-key epoch ends where its keyed marker says; an unkeyed row past that, or any
    # unkeyed row when no marker closes an epoch, was re-hashed by someone without the key.
    closed = f"#{epoch_end}" if isinstance(epoch_end, int) else "no keyed marker"
    for seq, before in unkeyed:
        if isinstance(epoch_end, int) and seq <= epoch_end:
            report.unkeyed += 1
        else:
            why = f"an unkeyed row outside the pre-key epoch ({closed} closes it): forged"
            bad.append((seq, before, why + " without the key"))
    if bad:
        bad.sort()
        report.checked = bad[0][1]
        report.bad = AuditEvent.objects.filter(seq=bad[0][0]).first()
        report.bad_seqs = [seq for seq, _, _ in bad]
        named = [f"#{seq} {why}" for seq, _, why in bad[:MAX_ROWS_NAMED]]
        if len(bad) > MAX_ROWS_NAMED:
            named.append(f"... and {len(bad) - MAX_ROWS_NAMED} more rows that do not verify")
        report.problems[:0] = named
    else:
        report.checked = report.walked

    if latest is not None and latest["seq"] > report.head_seq:
        if report.head_seq == 0:
            report.problems.append(
                f"the audit table is empty, but the checkpoint of {latest['at']} recorded "
                f"{latest['seq']} rows: it was truncated or emptied"
            )
        else:
            report.problems.append(
                f"the chain ends at #{report.head_seq}, but the checkpoint of {latest['at']} "
                f"recorded #{latest['seq']}: the newest {latest['seq'] - report.head_seq} "
                "rows were deleted"
            )
    for receipt_seq, cp in receipts:
        # A receipt is sealed by the chain; the file must hold the checkpoint it carries.
        if (cp.get("seq"), cp.get("hash")) not in in_file:
            report.problems.append(
                f"{settings.LFR_AUDIT_CHECKPOINT_FILE} is missing the checkpoint "
                f"#{cp.get('seq')} carried by retention receipt #{receipt_seq}: the file was "
                "truncated or replaced"
            )
    if latest is None and report.walked:
        report.warnings.append(
            "no checkpoint yet: rows deleted from the end cannot be told from a shorter chain "
            "until the first one"
        )
    if report.ok and checkpoint and report.head_seq:
        # The head just verified, not whatever was appended during the walk.
        try:
            audit_checkpoint_write(reason="verify", head=(report.head_seq, prev_hash))
        except OSError as exc:
            report.warnings.append(f"could not write the checkpoint: {exc}")
    return report


def audit_verify(*, batch_size: int = 2000):
    """Walk the chain; return (ok, checked, first bad event or None, why)."""
    report = audit_chain_check(batch_size=batch_size)
    return report.ok, report.checked, report.bad, "; ".join(report.problems)


# --- Login throttling -------------------------------------------------------------------
# Two counters: per username (LFR_LOGIN_MAX_FAILURES locks the account) and per client
# address (LFR_LOGIN_MAX_FAILURES_PER_ADDRESS in a window of LFR_LOGIN_LOCK_MINUTES blocks
# the address), so one address cannot lock account after account. Failures are audited one
# row each (bounded by both limits); refusals while locked are counted, and audited only at
# the 1st, 10th, 100th, ... and in full at the next successful login.


# Known devices: a browser on which an account fully signed in (password and second
# factor) gets a signed cookie naming it. The account's and the address's locks do not
# refuse that account on that browser, so a stranger's wrong passwords cannot lock a live
# deployment's officers out of their consoles; the device's own failures count, and past
# LFR_LOGIN_MAX_FAILURES it loses its pass until the lock time has gone by (counted in the
# database, so every process and host agrees).
KNOWN_DEVICE_COOKIE = "lfr_device"
KNOWN_DEVICE_DAYS = 90
_KNOWN_DEVICE_SALT = "lfr.known-device"
_KNOWN_DEVICE_USERS = 5  # a shared console PC: the last few accounts signed in on it


def _known_device_read(value: str | None) -> dict | None:
    if not value:
        return None
    try:
        data = signing.loads(value, salt=_KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_DAYS * 86400)
    except signing.BadSignature:
        return None
    ok = isinstance(data, dict) and isinstance(data.get("id"), str)
    return data if ok and isinstance(data.get("users"), list) else None


def _device_key(device: str) -> str:
    # The device's own failures, in the per-account table: no username contains ":".
    return f"device:{device}".lower()


def known_device_remember(*, value: str | None, username: str) -> str:
    """The cookie value for this browser once `username` has fully signed in on it (its
    failures so far forgiven, as an account's are)."""
    data = _known_device_read(value) or {"id": secrets.token_hex(12), "users": []}
    LoginThrottle.objects.filter(username=_device_key(data["id"])).delete()
    users = [u for u in data["users"] if u != username.lower()] + [username.lower()]
    return signing.dumps(
        {"id": data["id"], "users": users[-_KNOWN_DEVICE_USERS:]}, salt=_KNOWN_DEVICE_SALT
    )


def login_known_device(*, value: str | None, username: str) -> str | None:
    """This browser's id if `username` fully signed in on it and it has not failed too
    often since; None otherwise (then the locks apply as to anyone)."""
    data = _known_device_read(value)
    if data is None or not username or username.lower() not in data["users"]:
        return None
    return None if login_is_locked(username=_device_key(data["id"])) else data["id"]


def _known_device_failed(device: str, now) -> None:
    row, _ = LoginThrottle.objects.select_for_update().get_or_create(username=_device_key(device))
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= settings.LFR_LOGIN_MAX_FAILURES:
        row.locked_until = now + timedelta(minutes=settings.LFR_LOGIN_LOCK_MINUTES)
    row.save()


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
    *,
    username: str,
    address: str = "",
    action: str = "login.failed",
    details: dict | None = None,
    device: str | None = None,
) -> LoginThrottle:
    """A failed password, or a failed second-factor code (`action="mfa.failed"`): both
    count against the same account and address limits (and a known device's own)."""
    now = timezone.now()
    details = dict(details or {})
    if device:
        _known_device_failed(device, now)
        details["known_device"] = True
    if len(username) > LoginThrottle._meta.get_field("username").max_length:
        # No account can have this name: the address counts it, no per-name row is kept
        # (it would not fit the column), and the audit row says how long it was.
        row = LoginThrottle(username=username[:80].lower(), failures=1)
        details["username_length"] = len(username)
        locked = False
    else:
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(username=username.lower())
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
