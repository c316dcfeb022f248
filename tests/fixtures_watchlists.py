"""Shared pytest fixtures for this area (registered in tests/conftest.py)."""

import io
import struct
import zlib
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from recognition.engine.intake import inspect_image
from tests.helpers import data_path, faces
from watchlists import services
from watchlists.models import WatchlistEntry

# Face detection costs ~0.3 s an image: inspect each real file once per test session.
_INSPECTED: dict[tuple, object] = {}


def inspected(*parts):
    """The IntakeResult of a real sample image under faces/face_recognition (cached)."""
    if parts not in _INSPECTED:
        _INSPECTED[parts] = inspect_image(
            faces(*parts).read_bytes(), max_bytes=10 * 2**20, max_pixels=40_000_000, min_face_px=80
        )
    return _INSPECTED[parts]


def openface(name: str):
    """The IntakeResult of a sample image under faces/openface/images/examples (cached)."""
    key = ("openface", name)
    if key not in _INSPECTED:
        path = data_path("faces", "openface", "images", "examples", name)
        _INSPECTED[key] = inspect_image(
            path.read_bytes(), max_bytes=10 * 2**20, max_pixels=40_000_000, min_face_px=80
        )
    return _INSPECTED[key]


def obama():
    return inspected("examples", "obama.jpg")


def biden():
    return inspected("examples", "biden.jpg")


# --- bad inputs, generated (no image file is ever committed) ---------------------------


def truncated_jpeg() -> bytes:
    data = faces("examples", "obama.jpg").read_bytes()
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(side: int = 20000) -> bytes:
    """A ~60 kB PNG declaring side x side 1-bit pixels (hundreds of MB once decoded)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    z = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_with_html() -> bytes:
    img = Image.open(faces("examples", "obama.jpg"))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue() + b"<html><script>alert('x')</script></html>"


def svg_text() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
    )


def gif_bytes() -> bytes:
    buf = io.BytesIO()
    Image.open(faces("examples", "obama.jpg")).convert("P").save(buf, "GIF")
    return buf.getvalue()


GPS_MARK = "LFR-GPS-CAMERA-SERIAL-4242"


def jpeg_with_gps() -> bytes:
    """obama.jpg re-saved with EXIF GPS coordinates, a camera serial and an ICC profile."""
    img = Image.open(faces("examples", "obama.jpg"))
    exif = Image.Exif()
    exif[0x010F] = GPS_MARK  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 26.0)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif, icc_profile=img.info.get("icc_profile"), quality=90)
    return buf.getvalue()


# --- entries ------------------------------------------------------------------------------


def submit_entry(by, reference="S-1", *, result=None, category="wanted", dob=None, **extra):
    return services.entry_submit(
        by=by,
        subject=services.SubjectInput(
            reference=reference, display_name=f"Subject {reference}", date_of_birth=dob
        ),
        category=category,
        legal_basis="Warrant issued by the magistrates' court",
        case_reference="OP-1234",
        provenance="Custody photograph 2025",
        images=[result or obama()],
        **extra,
    )


def approved_entry(users, reference="S-1", **kw) -> WatchlistEntry:
    entry = submit_entry(users.contributor, reference, **kw)
    return services.entry_decide(
        entry_id=entry.pk, by=users.manager, approve=True, reason="Meets the criteria"
    )


@pytest.fixture
def pending_entry(users):
    return submit_entry(users.contributor)


@pytest.fixture
def soon():
    return timezone.now() + timedelta(days=30)


def form_post(image_name="obama.jpg", **fields) -> dict:
    """A complete submit-form POST for a new subject, with `fields` overriding."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(image_name, faces("examples", image_name).read_bytes())
    return {
        "image": upload,
        "subject_reference": "S-9",
        "display_name": "Nine",
        "category": "suspect",
        "legal_basis": "PACE s.64A",
        "case_reference": "OP-9",
        "provenance": "Custody",
        **form_dates(),
        **fields,
    }


def form_dates() -> dict:
    """The submit form's required review date and expiry, as a browser sends its defaults."""
    from datetime import timedelta

    from django.utils import timezone

    return {
        "expires_at": (timezone.localtime() + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M"),
        "review_due": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "taken_on": (timezone.localdate() - timedelta(days=30)).isoformat(),
    }
