"""Django's flush, which the audit table's guards now refuse (TRUNCATE on PostgreSQL,
DELETE on SQLite): lifted for a test database only, where every TransactionTestCase
flushes after itself. On any other database flush fails on the audit table, as it must."""

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS, connections

from core.audit_db import audit_guard_lifted, is_test_database


class Command(DjangoFlush):
    def handle(self, **options):
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        if not is_test_database(connection):
            return super().handle(**options)
        with audit_guard_lifted(connection):
            return super().handle(**options)
