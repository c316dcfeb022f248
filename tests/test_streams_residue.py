"""Non-matches leave nothing: after a stream of faces none of which is watchlisted, scan
every table, the var folder, Redis and the logs for crops and encodings; only counters moved.
"""

import logging
import re

import pytest
from django.conf import settings
from django.db import connection

from recognition.models import Alert, StreamLease
from recognition.services import streams
from tests.fixtures_recognition import watchlist_rows

JPEG_MAGIC = b"\xff\xd8\xff"
ENCODING_BYTES = 128 * 4
# base64 of a JPEG starts "/9j/"; a base64 encoding is ~684 characters in one run.
TEXT_SIGNS = re.compile(r"/9j/|[A-Za-z0-9+/=]{600,}|(?:-?\d\.\d+[,\s]+){100,}")
# Where watchlist data legitimately lives (it is not a passer-by's face).
WATCHLIST_TABLES = {"watchlists_referenceimage", "deployments_deploymentwatchlist"}
COUNTERS = {
    "recognition_streamlease": None,  # status and counters of the one camera
    "deployments_deployment": {"faces_seen"},
}


def database_rows() -> dict[str, dict]:
    """Every row of every table (models or not), keyed by its first column."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            names = [col[0] for col in cursor.description]
            rows = {}
            for row in cursor.fetchall():
                values = tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                rows[values[0]] = dict(zip(names, values, strict=True))
            found[table] = rows
    return found


def face_like(value) -> bool:
    if isinstance(value, bytes):
        return value.startswith(JPEG_MAGIC) or (value and len(value) % ENCODING_BYTES == 0)
    if isinstance(value, str):
        return bool(TEXT_SIGNS.search(value))
    return False


def var_files() -> dict:
    return {
        str(p): p.stat().st_size
        for p in settings.VAR_DIR.rglob("*")
        if p.is_file() and not p.name.startswith(("test", "lfr.sqlite3"))
    }


def redis_dump() -> dict:
    if not settings.REDIS_URL:
        return {}
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    dump = {}
    for key in client.scan_iter("*"):
        kind = client.type(key)
        if kind == b"string":
            dump[key] = [client.get(key)]
        elif kind == b"list":
            dump[key] = client.lrange(key, 0, -1)
        elif kind == b"zset":
            dump[key] = client.zrange(key, 0, -1)
        elif kind == b"set":
            dump[key] = list(client.smembers(key))
        elif kind == b"hash":
            dump[key] = list(client.hgetall(key).values())
        else:
            dump[key] = []
    return dump


@pytest.mark.slow
def test_it_leaves_only_counters_after_a_stream_of_unknown_faces(
    stream_deployment, caplog, django_capture_on_commit_callbacks
):
    # Obama and Biden are not in the hamilton clip: every face in it is a non-match.
    deployment = stream_deployment(rows=watchlist_rows("obama.jpg", "biden.jpg"))
    streams.streams_supervise()
    lease_id = StreamLease.objects.get(deployment=deployment).pk
    before_db, before_files, before_redis = database_rows(), var_files(), redis_dump()

    with caplog.at_level(logging.DEBUG), django_capture_on_commit_callbacks(execute=True):
        outcome = streams.stream_slice_run(lease_id=lease_id, holder="w/1/a")
        assert outcome.reason == "end of file"

    after_db, after_files, after_redis = database_rows(), var_files(), redis_dump()
    # Faces were seen, and counted ...
    lease = StreamLease.objects.get(pk=lease_id)
    assert lease.frames_in == 275 and lease.faces_seen > 0
    deployment.refresh_from_db()
    assert deployment.faces_seen == lease.faces_seen
    assert not Alert.objects.exists()

    # ... and nothing else: no new or changed row anywhere but the counters.
    for table, rows in after_db.items():
        was = before_db.get(table, {})
        assert set(rows) == set(was), f"rows added or removed in {table}"
        for key, row in rows.items():
            changed = {col for col in row if row[col] != was[key][col]}
            if changed:
                allowed = COUNTERS.get(table, set())
                assert table in COUNTERS and (allowed is None or changed <= allowed), (
                    f"{table} row {key} changed: {sorted(changed)}"
                )
    # No crop or encoding in any column of any table, outside the watchlist's own rows.
    for table, rows in after_db.items():
        if table in WATCHLIST_TABLES:
            continue
        for key, row in rows.items():
            bad = [col for col, value in row.items() if face_like(value)]
            assert not bad, f"{table} row {key}: face-like data in {bad}"
    assert (
        after_db["deployments_deploymentwatchlist"] == before_db["deployments_deploymentwatchlist"]
    )

    # No new or grown file in the var folder (the test database aside).
    assert {p: s for p, s in after_files.items() if before_files.get(p) != s} == {}

    # Redis: no new key, and no face-like value in any key.
    assert set(after_redis) - set(before_redis) == set()
    assert not [k for k, values in after_redis.items() if any(face_like(v) for v in values)]

    # Logs: no line from the stream and nothing face-like in anyone's line.
    assert not [r for r in caplog.records if r.name.startswith("recognition")]
    assert not [r for r in caplog.records if face_like(r.getMessage())]
