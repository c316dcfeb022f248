"""Issue 14.3: the audit chain is keyed, its head is checkpointed outside the table, the
table cannot be emptied, and the app's database role cannot tamper with it."""

import hashlib
import json
import os
import stat
import subprocess

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core.audit_db import audit_guard_lifted
from core.models import AuditEvent
from core.services import _canonical, audit_pre_key_epoch_close, audit_record, audit_verify
from tests.helpers import PYTHON, ROOT

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="roles and TRUNCATE are PostgreSQL's"
)
TEST_KEY = "tests-only-audit-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(autouse=True)
def _key(settings):
    settings.LFR_AUDIT_KEY = TEST_KEY


def _append(n):
    return [audit_record(action=f"test.{i}", object_type="thing", object_id=i) for i in range(n)]


def _as_superuser(*statements):
    """What an attacker holding the owner's or a superuser's credentials can do."""
    with audit_guard_lifted(connection), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def _verify_fails(match):
    with pytest.raises(CommandError, match=match):
        call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_empty_the_table():
    _append(2)
    # SQLite has no TRUNCATE: an unqualified DELETE is its way of emptying a table.
    sql = (
        "TRUNCATE core_auditevent"
        if connection.vendor == "postgresql"
        else ("DELETE FROM core_auditevent")
    )
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEvent.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_refuses_update_and_delete_on_sqlite_too():
    _append(1)
    for sql in ("UPDATE core_auditevent SET purpose = 'x'", "DELETE FROM core_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)


@pytest.mark.django_db(transaction=True)
def test_it_reports_the_newest_rows_deleted():
    _append(5)
    call_command("audit_verify")  # checkpoints the head, #5
    _as_superuser(("DELETE FROM core_auditevent WHERE seq > %s", [3]))
    _verify_fails(r"newest 2 rows were deleted")


@pytest.mark.django_db(transaction=True)
def test_it_reports_a_truncated_table():
    _append(3)
    call_command("audit_verify")
    _as_superuser(("DELETE FROM core_auditevent", []))
    _verify_fails(r"table is empty.*truncated")


def _rehash_without_the_key(from_seq):
    """Rewrite rows from `from_seq` on with a plain SHA-256 chain: all an attacker can
    compute without LFR_AUDIT_KEY (and what the chain was before it was keyed)."""
    statements = []
    prev = AuditEvent.objects.get(seq=from_seq - 1).hash
    for event in AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq"):
        if event.seq == from_seq:
            event.purpose = "rewritten"
        digest = hashlib.sha256((prev + _canonical(event)).encode()).hexdigest()
        statements.append(
            (
                "UPDATE core_auditevent SET purpose = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                [event.purpose, prev, digest, event.seq],
            )
        )
        prev = digest
    _as_superuser(*statements)


@pytest.mark.django_db(transaction=True)
def test_it_reports_a_row_rewritten_and_rehashed_forward():
    _append(6)
    _rehash_without_the_key(3)
    _verify_fails(r"#3 .*re-hashed without the key")


@pytest.mark.django_db(transaction=True)
def test_it_reports_a_wrong_key(settings):
    _append(3)
    call_command("audit_verify")
    settings.LFR_AUDIT_KEY = "another-key-" + "x" * 40
    _verify_fails(r"wrong key")


@pytest.mark.django_db(transaction=True)
def test_it_writes_signed_checkpoints_outside_the_table(settings):
    from core.tasks import audit_checkpoint

    _append(4)
    audit_checkpoint()
    path = settings.LFR_AUDIT_CHECKPOINT_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    (line,) = path.read_text().splitlines()
    checkpoint = json.loads(line)
    assert checkpoint["seq"] == 4 and checkpoint["hash"] == AuditEvent.objects.get(seq=4).hash
    assert len(checkpoint["mac"]) == 64
    audit_checkpoint()  # nothing new: no second line
    assert len(path.read_text().splitlines()) == 1


@pytest.mark.django_db(transaction=True)
def test_a_forged_checkpoint_line_is_reported(settings):
    _append(2)
    call_command("audit_verify")
    path = settings.LFR_AUDIT_CHECKPOINT_FILE
    forged = json.loads(path.read_text().splitlines()[-1]) | {"seq": 1}
    with open(path, "a") as f:
        f.write(json.dumps(forged) + "\n")
    _verify_fails(r"checkpoint line 2 .*does not verify")


@pytest.mark.django_db(transaction=True)
def test_a_retention_receipt_carries_the_checkpoint_of_the_head(settings):
    _append(2)
    receipt = audit_record(action="retention.test", details={"deleted": 1})
    checkpoint = receipt.details["audit_checkpoint"]
    assert checkpoint["seq"] == 2 and checkpoint["hash"] == AuditEvent.objects.get(seq=2).hash
    lines = settings.LFR_AUDIT_CHECKPOINT_FILE.read_text().splitlines()
    assert json.loads(lines[-1])["seq"] == 2
    call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_file_that_lost_lines_is_reported(settings):
    _append(2)
    audit_record(action="retention.test", details={"deleted": 1})
    settings.LFR_AUDIT_CHECKPOINT_FILE.write_text("")
    _verify_fails(r"missing the checkpoint #2 .*retention receipt #3")


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_chain_was_keyed_still_verify(capsys):
    # The epoch: rows of the unkeyed chain (key_id "") keep their SHA-256 hashes; the
    # first keyed row links to the last of them, so its HMAC seals them too.
    (legacy,) = _append(1)
    digest = hashlib.sha256(("0" * 64 + _canonical(legacy)).encode()).hexdigest()
    _as_superuser(("UPDATE core_auditevent SET key_id = '', hash = %s WHERE seq = 1", [digest]))
    audit_pre_key_epoch_close()  # as migration 0009 does: the keyed marker closes the epoch
    _append(2)
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "audit chain OK: 4 events verified" in out and "1 written before keying" in out
    _rehash_without_the_key(3)
    _verify_fails(r"#3 .*re-hashed without the key")


@pytest.mark.django_db(transaction=True)
def test_a_keyed_row_turned_back_into_an_unkeyed_one_is_reported():
    _append(3)
    event = AuditEvent.objects.get(seq=3)
    digest = hashlib.sha256((event.prev_hash + _canonical(event)).encode()).hexdigest()
    _as_superuser(("UPDATE core_auditevent SET key_id = '', hash = %s WHERE seq = 3", [digest]))
    _verify_fails(r"#3 .*unkeyed row after keyed rows")


def test_the_tuple_api_reports_truncation_without_a_bad_row(transactional_db):
    _append(2)
    audit_verify()
    _as_superuser(("DELETE FROM core_auditevent", []))
    ok, checked, bad, why = audit_verify()
    assert (ok, checked, bad) == (False, 0, None) and "truncated" in why


# --- The production layout: the app's role may only INSERT and SELECT the audit table ---


APP_PASSWORD = "app-role-test-password"


@pytest.fixture
def app_role(transactional_db):
    """A login role with the production grants on the test database (roles are the
    cluster's: named after the database, dropped afterwards)."""
    role = f"{connection.settings_dict['NAME']}_app"[:60]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f'THEN DROP OWNED BY "{role}"; DROP ROLE "{role}"; END IF; END $$'
        )
        cursor.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{APP_PASSWORD}'")
    try:
        call_command("audit_db_roles", "--app-role", role, "--apply")
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


def _db(role):
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{role}:{APP_PASSWORD}@{host}:{port}/{db['NAME']}"


@postgres_only
def test_the_app_role_cannot_update_delete_truncate_or_disable_the_trigger(app_role):
    _append(1)
    with psycopg.connect(_db(app_role), autocommit=True) as app:
        assert app.execute("SELECT count(*) FROM core_auditevent").fetchone() == (1,)
        # Other tables stay writable: the restriction is the audit table's alone.
        app.execute("UPDATE core_loginthrottle SET failures = 0")
        for sql in (
            "UPDATE core_auditevent SET purpose = 'x'",
            "DELETE FROM core_auditevent",
            "TRUNCATE core_auditevent",
            "ALTER TABLE core_auditevent DISABLE TRIGGER USER",
            "DROP TRIGGER core_auditevent_append_only ON core_auditevent",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(sql)
    assert AuditEvent.objects.count() == 1


@postgres_only
def test_the_app_role_appends_through_audit_record(app_role):
    _append(1)
    env = {**os.environ, "DATABASE_URL": _db(app_role), "LFR_AUDIT_KEY": TEST_KEY}
    script = (
        "import django; django.setup();"
        "from core.services import audit_record; audit_record(action='app.role')"
    )
    result = subprocess.run(
        [PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert AuditEvent.objects.order_by("-seq").first().action == "app.role"
    call_command("audit_verify")


def _check_without_a_key(tmp_path, **env):
    """`manage.py check` in a fresh var/ with LFR_AUDIT_KEY unset."""
    base = {k: v for k, v in os.environ.items() if k not in {"LFR_AUDIT_KEY", "DATABASE_URL"}}
    base.update(LFR_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [PYTHON, "manage.py", "check"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_production_refuses_to_start_without_an_audit_key(tmp_path):
    result = _check_without_a_key(
        tmp_path,
        LFR_ENV="production",
        SECRET_KEY="s" * 64,
        ALLOWED_HOSTS="lfr.example.org",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 2 and "LFR_AUDIT_KEY" in result.stderr, result.stderr


@pytest.mark.slow
def test_the_embedded_default_generates_a_private_key_under_var(tmp_path):
    result = _check_without_a_key(tmp_path)
    assert result.returncode == 0, result.stderr
    key = tmp_path / "audit_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text()) >= 64


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_existing_rows_as_the_unkeyed_epoch(capsys):
    from datetime import UTC, datetime

    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("core", "0004_login_address_throttle")])
    try:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        old = AuditEvent(seq=1, at=at, action="before.keying", details={}, prev_hash="0" * 64)
        digest = hashlib.sha256(("0" * 64 + _canonical(old)).encode()).hexdigest()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_auditevent (seq, at, actor_username, action, object_type, "
                "object_id, outcome, purpose, request_id, client_addr, details, prev_hash, hash) "
                "VALUES (1, %s, '', 'before.keying', '', '', 'allowed', '', '', '', '{}', %s, %s)",
                [at, "0" * 64, digest],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert AuditEvent.objects.get(seq=1).key_id == ""
    _append(1)
    call_command("audit_verify")
    # 0009 closed the epoch after row 1 (#2), then one keyed row.
    assert "3 events verified, 1 written before keying" in capsys.readouterr().out


# --- Issue 24.4(d): evidence outside the chain. The app role may not DELETE alerts,
# decisions or verifications; retention deletes through the owner's definer function,
# which refuses held alerts and writes its own receipt the app role cannot touch.


@pytest.fixture
def evidence(live_deployment, users):
    from datetime import timedelta

    from django.utils import timezone

    from recognition.models import Verification
    from tests.fixtures_oversight import adjudicate, make_alert

    old = make_alert(live_deployment, at=timezone.now() - timedelta(days=400))
    adjudicate(old, by=users.officer, true=True)
    Verification.objects.create(alert=old, by=users.officer, is_true_match=True)
    return old


@postgres_only
def test_the_app_role_cannot_delete_alerts_decisions_or_verifications(app_role, evidence):
    with psycopg.connect(_db(app_role), autocommit=True) as app:
        app.execute("UPDATE recognition_alert SET hold_reason = '' WHERE id = %s", [evidence.pk])
        for table, column in (
            ("recognition_verification", "alert_id"),
            ("recognition_adjudication", "alert_id"),
            ("recognition_alert", "id"),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(f"DELETE FROM {table} WHERE {column} = %s", [evidence.pk])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("DELETE FROM recognition_alertdeletion")
    assert evidence.adjudications.count() == 1 and evidence.verifications.count() == 1


@postgres_only
def test_retention_as_the_app_role_deletes_and_leaves_receipts(app_role, evidence, settings):
    from recognition.models import Alert, AlertDeletion

    env = {**os.environ, "DATABASE_URL": _db(app_role), "LFR_AUDIT_KEY": TEST_KEY}
    env["LFR_AUDIT_CHECKPOINT_FILE"] = str(settings.LFR_AUDIT_CHECKPOINT_FILE)
    script = (
        "import django; django.setup();"
        "from recognition.services.retention import alerts_purge_expired as p;"
        "print(p()['alerts_deleted'])"
    )
    result = subprocess.run(
        [PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "1", result.stderr
    assert not Alert.objects.filter(pk=evidence.pk).exists()
    receipt = AlertDeletion.objects.get()
    assert receipt.db_user == app_role and receipt.alert_ids == [evidence.pk]
    assert (receipt.alerts, receipt.adjudications, receipt.verifications) == (1, 1, 1)
    assert AuditEvent.objects.filter(action="retention.alerts").count() == 1


@postgres_only
def test_the_definer_function_refuses_a_held_alert(app_role, evidence):
    from recognition.models import Alert

    Alert.objects.filter(pk=evidence.pk).update(legal_hold=True)
    with psycopg.connect(_db(app_role), autocommit=True) as app:
        row = app.execute(
            "SELECT recognition_alerts_delete(%s::bigint[], 'attacker')", [[evidence.pk]]
        ).fetchone()
    assert row == ([],) and Alert.objects.filter(pk=evidence.pk).exists()


@postgres_only
def test_a_junk_row_from_the_app_role_and_a_later_edit_are_both_named(app_role, capsys):
    _append(3)
    head = AuditEvent.objects.order_by("-seq").first()
    with psycopg.connect(_db(app_role), autocommit=True) as app:
        app.execute(
            "INSERT INTO core_auditevent (seq, at, actor_username, action, object_type, "
            "object_id, outcome, purpose, request_id, client_addr, details, prev_hash, hash, "
            "key_id) VALUES (4, now(), '', 'junk', '', '', 'allowed', '', '', '', '{}', %s, %s, "
            "%s)",
            [head.hash, "d" * 64, head.key_id],
        )
    _append(3)
    _as_superuser(("UPDATE core_auditevent SET purpose = 'edited' WHERE seq = %s", [6]))
    with pytest.raises(CommandError, match=r"BROKEN at event #4"):
        call_command("audit_verify")
    assert "#6 content does not match" in capsys.readouterr().err
