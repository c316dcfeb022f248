"""The embedded SQLite database survives its own use: WAL, a busy timeout, short writes.

Each test runs real threads on real connections to the file database (SQLite only).
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from core import services
from core.models import AuditEvent, LoginThrottle
from core.services import audit_record, audit_verify

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite settings of the embedded default"
)

DEADLINE = 60


def _in_thread(target, errors):
    def run():
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_it_opens_every_connection_in_wal_with_a_busy_timeout(transactional_db):
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] >= 10_000
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL
    finally:
        fresh.close()


def test_it_commits_a_write_while_another_connection_is_reading(transactional_db):
    """Rollback journal: a commit waits for every open read, then 'database is locked'."""
    for n in range(5):
        audit_record(action=f"test.seed{n}")
    reading, written, errors = threading.Event(), threading.Event(), []

    def reader():
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM core_auditevent")
            cursor.fetchone()  # the statement stays open: a read in progress
            reading.set()
            written.wait(DEADLINE)
            cursor.fetchall()

    thread = _in_thread(reader, errors)
    assert reading.wait(DEADLINE)
    try:
        audit_record(action="test.write")
    finally:
        written.set()
        thread.join(DEADLINE)
    assert errors == []
    assert AuditEvent.objects.filter(action="test.write").count() == 1


def test_it_queues_a_writer_behind_a_short_write_transaction(transactional_db):
    held, trying, errors = threading.Event(), threading.Event(), []

    def holder():
        with transaction.atomic():
            LoginThrottle.objects.create(username="held")
            held.set()
            trying.wait(DEADLINE)

    thread = _in_thread(holder, errors)
    assert held.wait(DEADLINE)
    trying.set()
    audit_record(action="test.after_holder")
    thread.join(DEADLINE)
    assert errors == []
    assert LoginThrottle.objects.filter(username="held").exists()
    assert AuditEvent.objects.filter(action="test.after_holder").count() == 1


def test_it_audits_inside_a_transaction_while_another_thread_audits(transactional_db):
    """A change audited inside its transaction (alert raised, decision recorded) while a
    request audits an image view: no lock order may leave one waiting on the other."""
    held, other_started, errors = threading.Event(), threading.Event(), []

    def change():
        with transaction.atomic():
            LoginThrottle.objects.create(username="change")  # holds the write lock
            held.set()
            assert other_started.wait(DEADLINE)
            # Let the other thread get as far as it can (it ends up waiting on the
            # database) before this transaction audits; a condition, polled.
            lock = getattr(services, "_local_lock", None)
            deadline = time.monotonic() + 5
            while lock is not None and not lock.locked() and time.monotonic() < deadline:
                time.sleep(0.01)
            audit_record(action="test.change")

    thread = _in_thread(change, errors)
    assert held.wait(DEADLINE)
    other_started.set()
    try:
        audit_record(action="test.view")
    except Exception as exc:  # noqa: BLE001
        errors.append(exc)
    thread.join(DEADLINE)
    assert errors == []
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"test.change", "test.view"}
    assert audit_verify()[0]


def test_it_keeps_every_record_when_several_threads_audit_at_once(transactional_db):
    errors, per_thread, threads = [], 25, []
    start = threading.Barrier(3)

    def auditor(name):
        def run():
            start.wait(DEADLINE)
            for n in range(per_thread):
                with transaction.atomic():
                    LoginThrottle.objects.update_or_create(username=name, defaults={"failures": n})
                    audit_record(action=f"test.{name}")

        return run

    for name in ("a", "b", "c"):
        threads.append(_in_thread(auditor(name), errors))
    for thread in threads:
        thread.join(DEADLINE)
    assert errors == []
    assert AuditEvent.objects.filter(action__startswith="test.").count() == 3 * per_thread
    ok, checked, _, why = audit_verify()
    assert ok, why
