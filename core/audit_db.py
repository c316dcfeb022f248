"""The audit table's guards in the database: lifting them for a test database's flush,
and the production layout in which the app's role cannot touch them at all.

Production layout (docs/AUDIT.md): migrations run as the role that owns the
tables; the app (web, workers, beat) connects as another role that may SELECT, INSERT,
UPDATE and DELETE the other tables but only SELECT and INSERT the audit table. Only an
owner may ALTER a table or DISABLE/DROP its triggers, and the app role owns nothing.

Evidence outside the chain is kept the same way (issue 24.4): the app role may not DELETE
alerts, decisions or verifications, nor write the deletion receipts; retention deletes
through `recognition_alerts_delete()`, a SECURITY DEFINER function of the owner's that
skips held alerts and writes a receipt with the role that called it.
"""

from contextlib import contextmanager

from django.db.backends.base.creation import TEST_DATABASE_PREFIX

AUDIT_TABLE = "core_auditevent"
# Tables the app role may not DELETE from (recognition/migrations/0009_alert_deletion.py),
# and the receipts table it may only read.
EVIDENCE_TABLES = ("recognition_alert", "recognition_adjudication", "recognition_verification")
RECEIPTS_TABLE = "recognition_alertdeletion"
DELETE_FUNCTION = "recognition_alerts_delete(bigint[], text)"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def app_role_grants_sql(*, app_role: str, owner: str, database: str) -> list[str]:
    """The statements an owner (or a DBA) runs to give the app role its privileges."""
    role, db = _quote(app_role), _quote(database)
    return [
        f"GRANT CONNECT ON DATABASE {db} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"REVOKE CREATE ON SCHEMA public FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # The audit table: read and append only.
        f"REVOKE ALL ON {AUDIT_TABLE} FROM {role}",
        f"GRANT SELECT, INSERT ON {AUDIT_TABLE} TO {role}",
        # Evidence: kept, or deleted only through the owner's function, which leaves receipts.
        f"REVOKE DELETE, TRUNCATE ON {', '.join(EVIDENCE_TABLES)} FROM {role}",
        f"REVOKE ALL ON {RECEIPTS_TABLE} FROM {role}",
        f"GRANT SELECT ON {RECEIPTS_TABLE} TO {role}",
        f"GRANT EXECUTE ON FUNCTION {DELETE_FUNCTION} TO {role}",
        # Tables and sequences later migrations create get the same grants.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {_quote(owner)} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {_quote(owner)} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def is_test_database(connection) -> bool:
    name = str(connection.settings_dict["NAME"])
    test_name = (connection.settings_dict.get("TEST") or {}).get("NAME")
    basename = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name == str(test_name) or basename.startswith(TEST_DATABASE_PREFIX)


@contextmanager
def audit_guard_lifted(connection):
    """Lift the audit table's triggers for the statements inside (owner or superuser only).

    For flushing a *test* database between tests, and for tests that play an attacker
    holding the owner's credentials; nothing in the product calls it.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER USER")
            try:
                yield
            finally:
                cursor.execute(f"ALTER TABLE {AUDIT_TABLE} ENABLE TRIGGER USER")
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [AUDIT_TABLE],
            )
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f"DROP TRIGGER {_quote(name)}")
            try:
                yield
            finally:
                for _, sql in triggers:
                    cursor.execute(sql)
        else:
            yield
