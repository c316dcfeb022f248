"""Issue 24.4: the audit chain's tail, its pre-key epoch, and a walk that names every bad
row. Each test plays what an attacker holding the owner's credentials (not the key) did."""

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from core import services
from core.audit_db import audit_guard_lifted
from core.models import AuditEvent
from core.services import _canonical, audit_record, audit_verify

TEST_KEY = "tests-only-audit-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(autouse=True)
def _key(settings):
    settings.LFR_AUDIT_KEY = TEST_KEY


def _append(n, prefix="test"):
    return [
        audit_record(action=f"{prefix}.{i}", object_type="thing", object_id=i) for i in range(n)
    ]


def _as_owner(*statements):
    with audit_guard_lifted(connection), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def _verify_fails(capsys, *names):
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify")
    said = str(failure.value) + capsys.readouterr().err
    for name in names:
        assert name in said, said
    return said


def _sha_chain(events, prev, edit_seq=None):
    """Rows re-hashed as plain SHA-256 'pre-key' rows: all one can do without the key."""
    statements = []
    for event in events:
        event.key_id = ""
        if event.seq == edit_seq:
            event.purpose = "forged"
        digest = hashlib.sha256((prev + _canonical(event)).encode()).hexdigest()
        statements.append(
            (
                "UPDATE core_auditevent SET key_id = '', purpose = %s, prev_hash = %s, "
                "hash = %s WHERE seq = %s",
                [event.purpose, prev, digest, event.seq],
            )
        )
        prev = digest
    _as_owner(*statements)


@pytest.mark.django_db(transaction=True)
def test_it_reports_the_rows_deleted_since_the_last_verification(capsys):
    _append(5)
    call_command("audit_verify")
    _append(3)  # no beat, no verification since: only the appends' own checkpoints
    _as_owner(("DELETE FROM core_auditevent WHERE seq > %s", [5]))
    _verify_fails(capsys, "newest 3 rows were deleted")


@pytest.mark.django_db(transaction=True)
def test_the_api_does_not_sign_a_chain_shorter_than_its_checkpoint(users, login, settings):
    _append(4)
    _as_owner(("DELETE FROM core_auditevent WHERE seq > %s", [2]))
    path = settings.LFR_AUDIT_CHECKPOINT_FILE
    before = path.read_text() if path.exists() else ""
    response = login(users.oversight).post(reverse("oversight_api:audit_verification"))
    assert response.status_code == 200 and response.json()["ok"] is False
    assert "rows were deleted" in response.json()["why"]
    assert (path.read_text() if path.exists() else "") == before


@pytest.mark.django_db(transaction=True)
def test_an_all_unkeyed_chain_is_refused_without_the_checkpoint_files(capsys, settings):
    events = _append(4)
    _sha_chain(events, "0" * 64, edit_seq=2)
    for path in settings.LFR_AUDIT_CHECKPOINT_FILE.parent.glob("audit_checkpoints*"):
        path.unlink()  # a restored backup: no checkpoint survived
    _verify_fails(capsys, "#1 ", "#2 ", "#4 ", "pre-key epoch")
    assert not list(settings.LFR_AUDIT_CHECKPOINT_FILE.parent.glob("audit_checkpoints*"))


def _legacy_chain(n):
    """Rows written before the chain was keyed, then closed as migration 0009 does."""
    events = _append(n, prefix="legacy")
    _sha_chain(events, "0" * 64)
    services.audit_pre_key_epoch_close()


@pytest.mark.django_db(transaction=True)
def test_a_legacy_epoch_closed_by_its_keyed_marker_verifies(capsys):
    _legacy_chain(2)
    _append(2)
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "audit chain OK: 5 events verified, 2 written before keying" in out


@pytest.mark.django_db(transaction=True)
def test_unkeyed_rows_after_the_epoch_are_refused_without_the_checkpoint_files(capsys, settings):
    _legacy_chain(2)
    _append(2)
    marker = AuditEvent.objects.get(seq=3)
    # Re-write the marker and every row after it as pre-key rows: the epoch looks longer.
    _sha_chain(list(AuditEvent.objects.filter(seq__gte=3).order_by("seq")), marker.prev_hash, 5)
    for path in settings.LFR_AUDIT_CHECKPOINT_FILE.parent.glob("audit_checkpoints*"):
        path.unlink()
    _verify_fails(capsys, "#3 ", "#5 ", "pre-key epoch")


@pytest.mark.django_db(transaction=True)
def test_it_names_a_junk_row_and_a_later_edit(capsys):
    _append(3)
    head = AuditEvent.objects.order_by("-seq").first()
    # What the app role may do: INSERT a row of its own making.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_auditevent (seq, at, actor_username, action, object_type, "
            "object_id, outcome, purpose, request_id, client_addr, details, prev_hash, hash, "
            "key_id) VALUES (4, %s, '', 'junk', '', '', 'allowed', '', '', '', '{}', %s, %s, %s)",
            [head.at, head.hash, "f" * 64, head.key_id],
        )
    _append(3)  # chained onto the junk row
    _as_owner(("UPDATE core_auditevent SET purpose = 'edited' WHERE seq = %s", [6]))
    said = _verify_fails(capsys, "#4 ", "#6 ")
    assert "#5 " not in said and "#7 " not in said
    ok, checked, bad, why = audit_verify()
    assert not ok and bad.seq == 4 and "#6 " in why


@pytest.mark.django_db(transaction=True)
def test_all_four_attacks_on_one_chain_are_detected_and_named(capsys):
    """The figure: tail delete, pre-key rewrite, junk row, later edit on one chain."""
    _legacy_chain(2)  # 1-2 unkeyed, 3 closes the epoch
    _append(4)  # 4-7
    call_command("audit_verify")
    head = AuditEvent.objects.order_by("-seq").first()
    with connection.cursor() as cursor:  # the app role's junk row, #8
        cursor.execute(
            "INSERT INTO core_auditevent (seq, at, actor_username, action, object_type, "
            "object_id, outcome, purpose, request_id, client_addr, details, prev_hash, hash, "
            "key_id) VALUES (8, %s, '', 'junk', '', '', 'allowed', '', '', '', '{}', %s, %s, %s)",
            [head.at, head.hash, "e" * 64, head.key_id],
        )
    _append(5)  # 9-13, the last two deleted below
    # The owner, without the key: #5 passed off as a pre-key row, #10 edited, #12-13 gone.
    _sha_chain([AuditEvent.objects.get(seq=5)], AuditEvent.objects.get(seq=4).hash, 5)
    _as_owner(
        ("UPDATE core_auditevent SET purpose = 'edited' WHERE seq = %s", [10]),
        ("DELETE FROM core_auditevent WHERE seq > %s", [11]),
    )
    said = _verify_fails(capsys, "#5 ", "#8 ", "#10 ", "newest 2 rows were deleted")
    attacks = {
        "tail delete": "newest 2 rows were deleted" in said,
        "pre-key rewrite": "#5 an unkeyed row" in said,
        "junk row": "#8 content does not match" in said,
        "later edit": "#10 content does not match" in said,
    }
    assert all(attacks.values()), attacks
    print(f"audit attacks: {sum(attacks.values())} of {len(attacks)} detected and named")


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_rolled_back_leaves_a_true_head(settings):
    from django.db import transaction

    with transaction.atomic():
        _append(2)
        try:
            with transaction.atomic():
                _append(1)  # #3, rolled back
                raise RuntimeError
        except RuntimeError:
            pass
    head = json.loads(
        (settings.LFR_AUDIT_CHECKPOINT_FILE.parent / "audit_checkpoints.jsonl.head").read_text()
    )
    assert head["seq"] == 2 and head["hash"] == AuditEvent.objects.get(seq=2).hash
    call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_appends_from_several_threads_leave_the_newest_head(settings):
    import threading

    from django.db import close_old_connections

    def append():
        try:
            _append(10)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=append) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    head = json.loads(
        (settings.LFR_AUDIT_CHECKPOINT_FILE.parent / "audit_checkpoints.jsonl.head").read_text()
    )
    assert head["seq"] == 30 == AuditEvent.objects.order_by("-seq").first().seq
    call_command("audit_verify")
