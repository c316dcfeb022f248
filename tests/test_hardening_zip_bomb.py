"""Issue 24.3: a ZIP bomb in a bulk import is refused member by member, in bounded memory,
and the archive's other subjects are imported (a 1.04 MB ZIP grew a worker by 2 GB, and
one bad member aborted the whole import)."""

import struct
import tracemalloc
import zlib

import pytest

from tests.figures import check_doc, write_figure
from tests.test_watchlists_bulk_import import FIELDS, TRAIN
from watchlists.models import ImportJob, WatchlistEntry
from watchlists.services import bulk

GIB = 1 << 30


def _zeros_deflated(size: int) -> bytes:
    """`size` zero bytes as a raw deflate stream (~1 MB per GiB), built without inflating
    them: one fully flushed 1 MiB block repeated, then an empty final block."""
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = block.compress(bytes(1 << 20)) + block.flush(zlib.Z_FULL_FLUSH)
    return chunk * (size >> 20) + b"\x03\x00"


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP written by hand: (name, deflated data, crc, declared size) per member, so a
    member may declare a size that is not what it inflates to."""
    local, central = b"", b""
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = len(local)
        fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(data), size)
        local += b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded + data
        central += (
            b"PK\x01\x02"
            + struct.pack("<H", 20)
            + fields
            + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, offset)
            + encoded
        )
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, *(len(members),) * 2, len(central), len(local), 0
    )
    return local + central + end


def _image(path) -> tuple[bytes, int, int]:
    raw = path.read_bytes()
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(raw) + packer.flush(), zlib.crc32(raw), len(raw)


@pytest.mark.parametrize(
    "declared",
    [pytest.param(50_000, id="declares-50KB"), pytest.param(GIB, id="declares-1GiB")],
)
def test_a_zip_bomb_is_refused_in_bounded_memory_and_the_rest_imported(users, declared):
    bomb = _zeros_deflated(GIB)  # the CRC is never reached: the member is refused first
    archive = _zip(
        [
            ("obama/obama.jpg", *_image(TRAIN / "obama" / "obama.jpg")),
            ("bomb/face.jpg", bomb, 0, declared),
            ("biden/biden.jpg", *_image(TRAIN / "biden" / "biden.jpg")),
        ]
    )
    assert len(bomb) < 1.1e6  # ~1 MB on the wire for 1 GiB inflated
    job = bulk.import_job_create(
        by=users.contributor, archive=archive, source_name="bomb.zip", fields=FIELDS
    )
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        outcome = bulk.import_job_run(job_id=job.pk)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    job.refresh_from_db()
    assert outcome == "done" and job.state == ImportJob.State.DONE
    rows = {row["file"]: row for row in job.report}
    (refused,) = (row for name, row in rows.items() if name.endswith("face.jpg"))
    assert refused["outcome"] == "refused" and refused["detail"], rows
    assert rows["obama.jpg"]["outcome"] == rows["biden.jpg"]["outcome"] == "added", rows
    subjects = set(WatchlistEntry.objects.values_list("subject__reference", flat=True))
    assert subjects == {"obama", "biden"}
    assert peak < 50 * 2**20, f"peak memory growth {peak / 2**20:.0f} MiB"
    line = (
        f"zip bomb: a {len(bomb) / 1e6:.2f} MB member inflating to 1 GiB refused, the archive's "
        f"other {len(subjects)} subjects imported, memory growth under 50 MiB"
        f" | measured: peak {peak / 2**20:.1f} MiB (declared size {declared} bytes)"
    )
    write_figure(f"zip_bomb_{declared}", {"line": line, "peak_bytes": peak})
    check_doc(line)


def test_a_member_compressed_implausibly_well_is_refused():
    size = 4 << 20
    data = _zeros_deflated(size)
    archive = _zip([("s1/a.jpg", data, zlib.crc32(bytes(size)), size)])
    (item,) = bulk.items_from_zip(archive)
    with pytest.raises(OSError, match="compressed"):
        item.load()


def test_a_damaged_member_is_reported_not_raised():
    data, crc, size = _image(TRAIN / "obama" / "obama.jpg")
    archive = _zip([("s1/a.jpg", data, crc ^ 1, size)])
    (item,) = bulk.items_from_zip(archive)
    with pytest.raises(OSError, match="damaged"):
        item.load()
