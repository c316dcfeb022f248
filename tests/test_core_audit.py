import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from core.audit_db import audit_guard_lifted
from core.models import AuditEvent
from core.services import GENESIS, audit_record, audit_verify
from tests.helpers import PYTHON, ROOT, subprocess_env

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the append-only trigger is PostgreSQL's"
)


def _append(n, **kwargs):
    return [
        audit_record(action=f"test.{i}", object_type="thing", object_id=i, **kwargs)
        for i in range(n)
    ]


def test_it_chains_each_row_to_the_previous(db):
    first, second = _append(2)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert (first.seq, second.seq) == (1, 2)


def test_it_verifies_an_untouched_chain(db, capsys):
    _append(5, details={"why": "because", "n": 3})
    assert audit_verify()[:2] == (True, 5)
    call_command("audit_verify")
    assert "audit chain OK: 5 events verified" in capsys.readouterr().out


def test_it_refuses_biometric_details(db):
    with pytest.raises(ValueError, match="biometric"):
        audit_record(action="x", details={"encoding": [0.1] * 128})


def _tamper(sql, params):
    # A superuser bypass is exactly what the chain exists to expose.
    with audit_guard_lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db(transaction=True)
def test_it_names_the_first_tampered_row():
    events = _append(6)
    _tamper("UPDATE core_auditevent SET purpose = %s WHERE seq = %s", ["edited", events[3].seq])
    ok, checked, bad, why = audit_verify()
    assert not ok and bad.seq == 4 and checked == 3
    assert "content does not match" in why
    with pytest.raises(CommandError, match=r"BROKEN at event #4"):
        call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_it_names_a_deleted_row():
    events = _append(4)
    _tamper("DELETE FROM core_auditevent WHERE seq = %s", [events[1].seq])
    ok, _, bad, why = audit_verify()
    assert not ok and bad.seq == 3 and "gap" in why


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_refuses_update_and_delete_on_postgresql():
    (event,) = _append(1)
    for sql in ("UPDATE core_auditevent SET purpose = 'x'", "DELETE FROM core_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    assert AuditEvent.objects.get().hash == event.hash


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_chain_when_several_processes_append_at_once():
    script = (
        "import django, sys; django.setup();"
        "from core.services import audit_record;"
        "[audit_record(action='proc.%s' % sys.argv[1], object_id=i) for i in range(25)]"
    )
    env = subprocess_env(DJANGO_SETTINGS_MODULE="lfr_site.settings")
    procs = [subprocess.Popen([PYTHON, "-c", script, str(n)], cwd=ROOT, env=env) for n in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    assert AuditEvent.objects.count() == 100
    assert audit_verify()[:2] == (True, 100)
