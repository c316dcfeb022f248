"""Key the audit chain and guard the table against being emptied.

The epoch: rows already in the table keep the plain SHA-256 hashes they were written with
and get key_id "" (unkeyed); every row from now on is an HMAC under LFR_AUDIT_KEY. They
are not re-keyed: re-hashing old rows would launder any tampering done before this
migration, while the first keyed row links to the last unkeyed one, so its HMAC seals
the whole unkeyed prefix from now on. `audit_verify` checks both kinds and refuses an
unkeyed row after a keyed one.

PostgreSQL: the append-only trigger now refuses TRUNCATE too (a statement trigger).
SQLite has neither TRUNCATE nor per-statement privileges: it gets row triggers refusing
UPDATE and DELETE (which also catch `DELETE FROM` without WHERE, SQLite's way of
emptying a table). SQLite triggers are dropped when Django rebuilds the table for a
later schema change, so a later migration that alters this table must re-create them
(tests/test_hardening_audit_chain.py checks they are present).
"""

from django.db import migrations, models

# 0003's function raises for whatever operation fired it, a statement trigger's too.
PG_CREATE = """
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
CREATE TRIGGER core_auditevent_no_truncate
    BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only();
"""
PG_DROP = "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;"

SQLITE_CREATE = [
    f"""
CREATE TRIGGER IF NOT EXISTS core_auditevent_no_{op.lower()}
BEFORE {op} ON core_auditevent
BEGIN
    SELECT RAISE(ABORT, 'core_auditevent is append-only: {op} refused');
END;
"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS core_auditevent_no_{op};" for op in ("update", "delete")]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_login_address_throttle")]
    operations = [
        # A column added with a default is DDL: existing rows get "" (unkeyed) without
        # an UPDATE, which the append-only trigger would refuse.
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(forwards, backwards),
    ]
