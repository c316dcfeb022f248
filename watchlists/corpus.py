"""A hostile upload corpus for the watchlist intake, and a runner that sends it through
both doors (the API and the submit form) and measures each case's peak memory.

Every file is generated here from one local sample portrait (LFR_DATA_DIR) and Pillow,
never fetched and never committed. Each case says what must happen: ``refused`` (a 400
with the reason) or ``neutralised`` (accepted, but stored only as our own re-encoded
JPEG: no metadata, no trailing bytes, no text chunks). Used by
tests/test_hardening_upload_corpus.py and by ``manage.py upload_corpus``.
"""

from __future__ import annotations

import html
import io
import re
import struct
import tracemalloc
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, PngImagePlugin

REFUSED, NEUTRALISED = "refused", "neutralised"
SCRIPT = b"<script>alert(document.cookie)</script>"


@dataclass
class Case:
    kind: str
    data: bytes
    filename: str
    content_type: str
    expect: str


@dataclass
class Outcome:
    kind: str
    channel: str
    status: int
    verdict: str  # what the answer said: the rule and message, or "stored as entry N"
    entry_id: int | None
    traced_peak_mib: float
    rss_peak_mib: float | None


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(width: int, height: int, idat: bytes, *, depth=8, colour=2, extra=b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + extra
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _zeros_png(width: int, height: int) -> bytes:
    """A real, valid PNG of black pixels: tiny on disk, width*height*3 bytes decoded."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + width * 3)
    parts = [packer.compress(row) for _ in range(height)]
    return _png(width, height, b"".join(parts) + packer.flush())


def _save(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def _jpeg_with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its frame header claiming another size (a dimension bomb)."""
    at = jpeg.index(b"\xff\xc0")
    return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]


def hostile_cases(portrait: Path) -> list[Case]:
    """The corpus: 36 kinds, built in memory from one portrait (a face that passes)."""
    face = Image.open(portrait)
    face.load()
    face = face.convert("RGB")
    jpeg = _save(face, "JPEG", quality=90)
    png = _save(face, "PNG")
    exif = Image.Exif()
    exif[0x010E] = SCRIPT.decode()  # ImageDescription
    exif[0x013B] = "'; DROP TABLE watchlists_subject; --"  # Artist
    exif[0x8825] = {2: (51.0, 30.0, 0.0), 4: (0.0, 7.0, 0.0)}  # GPS: a home address
    text = Image.new("RGB", (8, 8))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    info.add_text("XML:com.adobe.xmp", "<x:xmpmeta>" + SCRIPT.decode() + "</x:xmpmeta>")
    frames = [face.resize((200, 260)), face.resize((200, 260)).rotate(5)]
    two_faces = Image.new("RGB", (face.width * 2 + 80, face.height), "white")
    two_faces.paste(face, (0, 0))
    two_faces.paste(face, (face.width + 80, 0))
    gray16 = face.convert("L").point(lambda v: v * 256, "I").convert("I;16")
    half = len(jpeg) // 2
    scan = jpeg.index(b"\xff\xda") + 200
    c = Case
    return [
        c("zero-byte file", b"", "empty.jpg", "image/jpeg", REFUSED),
        c("one byte", b"\xff", "one.jpg", "image/jpeg", REFUSED),
        c("JPEG magic only", b"\xff\xd8\xff", "magic.jpg", "image/jpeg", REFUSED),
        c("PNG signature only", b"\x89PNG\r\n\x1a\n", "sig.png", "image/png", REFUSED),
        c("plain text named .jpg", b"just some words\n" * 20, "photo.jpg", "image/jpeg", REFUSED),
        c("HTML with script named .png", b"<html>" + SCRIPT, "photo.png", "image/png", REFUSED),
        c(
            "SVG with script",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + SCRIPT + b"</svg>",
            "face.svg",
            "image/svg+xml",
            REFUSED,
        ),
        c(
            "text named .heic",
            b"not really an iPhone photo",
            "IMG_0001.HEIC",
            "image/heic",
            REFUSED,
        ),
        c(
            "HEIC container header",
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
            "IMG_0002.heic",
            "image/heic",
            REFUSED,
        ),
        c("PDF", b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF", "scan.pdf", "application/pdf", REFUSED),
        c("ZIP archive", b"PK\x03\x04" + b"\x00" * 60, "photos.zip", "application/zip", REFUSED),
        c(
            "ELF executable",
            b"\x7fELF\x02\x01\x01" + b"\x00" * 60,
            "a.jpg.exe",
            "image/jpeg",
            REFUSED,
        ),
        c("GIF (static)", _save(face, "GIF"), "face.gif", "image/gif", REFUSED),
        c(
            "animated GIF",
            _save(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0),
            "anim.gif",
            "image/gif",
            REFUSED,
        ),
        c(
            "animated PNG (APNG)",
            _save(frames[0], "PNG", save_all=True, append_images=frames[1:]),
            "anim.png",
            "image/png",
            REFUSED,
        ),
        c("BMP", _save(face, "BMP"), "face.bmp", "image/bmp", REFUSED),
        c("TIFF", _save(face, "TIFF"), "face.tiff", "image/tiff", REFUSED),
        c("WebP", _save(face, "WEBP"), "face.webp", "image/webp", REFUSED),
        c("truncated JPEG (half)", jpeg[:half], "cut.jpg", "image/jpeg", REFUSED),
        c("truncated PNG (half)", png[: len(png) // 2], "cut.png", "image/png", REFUSED),
        c(
            "corrupted JPEG scan",
            jpeg[:scan] + b"\xff\x17" * 64 + jpeg[scan + 128 :],
            "bad.jpg",
            "image/jpeg",
            REFUSED,
        ),
        c(
            "PNG with a bad IDAT",
            _png(64, 64, b"\x78\x9c" + b"\xff" * 40),
            "bad.png",
            "image/png",
            REFUSED,
        ),
        c(
            "PNG dimension bomb (50,000 x 50,000 declared)",
            _png(50_000, 50_000, zlib.compress(b"\x00" * 1024)),
            "bomb.png",
            "image/png",
            REFUSED,
        ),
        c(
            "JPEG dimension bomb (65,000 x 65,000 declared)",
            _jpeg_with_size(jpeg, 65_000, 65_000),
            "bomb.jpg",
            "image/jpeg",
            REFUSED,
        ),
        c(
            "PNG decompression bomb within the pixel limit (6,000 x 6,000)",
            _zeros_png(6_000, 6_000),
            "flat.png",
            "image/png",
            REFUSED,
        ),
        c(
            "over the byte limit",
            b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024),
            "big.jpg",
            "image/jpeg",
            REFUSED,
        ),
        c("1 x 1 PNG", _save(Image.new("RGB", (1, 1)), "PNG"), "dot.png", "image/png", REFUSED),
        c("16-bit grayscale PNG", _save(gray16, "PNG"), "deep.png", "image/png", REFUSED),
        c("two faces", _save(two_faces, "JPEG"), "pair.jpg", "image/jpeg", REFUSED),
        c(
            "PNG text chunks only (no face)",
            _save(text, "PNG", pnginfo=info),
            "t.png",
            "image/png",
            REFUSED,
        ),
        c(
            "polyglot: JPEG + HTML + ZIP after EOI",
            jpeg + b"<html>" + SCRIPT + b"PK\x03\x04" + b"\x00" * 40,
            "poly.jpg",
            "image/jpeg",
            NEUTRALISED,
        ),
        c(
            "EXIF with script and GPS",
            _save(face, "JPEG", exif=exif),
            "exif.jpg",
            "image/jpeg",
            NEUTRALISED,
        ),
        c(
            "PNG with script in tEXt/XMP",
            _save(face, "PNG", pnginfo=info),
            "meta.png",
            "image/png",
            NEUTRALISED,
        ),
        c("CMYK JPEG", _save(face.convert("CMYK"), "JPEG"), "cmyk.jpg", "image/jpeg", NEUTRALISED),
        c(
            "PNG bytes named .php with a wrong type",
            png,
            "shell.php",
            "application/x-php",
            NEUTRALISED,
        ),
        c(
            "progressive grayscale JPEG",
            _save(face.convert("L"), "JPEG", progressive=True),
            "gray.jpg",
            "image/jpeg",
            NEUTRALISED,
        ),
    ]


def stored_is_clean(jpeg: bytes) -> list[str]:
    """What is wrong with a stored image that should be our plain re-encoded JPEG."""
    problems = []
    if not jpeg.startswith(b"\xff\xd8\xff") or not jpeg.endswith(b"\xff\xd9"):
        problems.append("not a plain JPEG ending at its EOI")
    img = Image.open(io.BytesIO(jpeg))
    if img.getexif():
        problems.append(f"EXIF kept: {dict(img.getexif())}")
    if set(img.info) - {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}:
        problems.append(f"metadata kept: {sorted(img.info)}")
    for needle in (b"<script", b"PK\x03\x04", b"DROP TABLE", b"xmpmeta"):
        if needle in jpeg:
            problems.append(f"{needle!r} kept")
    return problems


# --- measuring -------------------------------------------------------------------------

_CLEAR_REFS = Path("/proc/self/clear_refs")


def _rss_reset() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so it measures the next case only."""
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(fn, *args):
    """(fn's result, peak traced MiB, peak RSS growth MiB or None) for one call.

    tracemalloc sees Python's and numpy's allocations; Pillow and dlib allocate in C,
    which only the resident set shows, so both are reported."""
    rss_ok = _rss_reset()
    before = _rss_kib("VmRSS")
    tracemalloc.start()
    try:
        result = fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss = (_rss_kib("VmHWM") - before) / 1024 if rss_ok else None
    return result, peak / 2**20, rss


# --- the two doors ---------------------------------------------------------------------

FIELDS = {
    "display_name": "Corpus Subject",
    "category": "wanted",
    "legal_basis": "Warrant issued by the magistrates' court",
    "case_reference": "OP-CORPUS",
    "provenance": "Generated hostile upload corpus",
}
_FORM_ERROR = re.compile(r'<p class="error"[^>]*>(.*?)</p>', re.S)


def send(client, case: Case, channel: str, reference: str) -> tuple[int, str, int | None]:
    """Submit one case through the API or the form: (status, what it said, entry id)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(case.filename, case.data, content_type=case.content_type)
    from datetime import timedelta

    from django.utils import timezone

    # A recent photo (the image-age rule asks when it was taken): only the file is hostile.
    taken_on = (timezone.localdate() - timedelta(days=30)).isoformat()
    body = {**FIELDS, "taken_on": taken_on, "subject_reference": reference, "image": upload}
    if channel == "api":
        response = client.post("/api/v1/watchlist/entries/", body)
        data = response.json()
        if response.status_code == 201:
            return 201, f"stored as entry {data['id']}", data["id"]
        said = f"{data.get('rule', 'invalid')}: {data.get('detail') or data}"
        return response.status_code, said, None
    # The form asks for the review date and expiry (filled in with defaults by the page).
    from datetime import timedelta

    from django.utils import timezone

    expires = timezone.localtime() + timedelta(days=365)
    review = timezone.localdate() + timedelta(days=90)
    dates = {"expires_at": expires.strftime("%Y-%m-%dT%H:%M"), "review_due": review}
    response = client.post("/watchlists/submit/", {**body, **dates})
    if response.status_code == 302:
        entry_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
        return 302, f"stored as entry {entry_id}", entry_id
    found = _FORM_ERROR.search(response.content.decode())
    said = html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else "(no message)"
    return response.status_code, said, None


def run(client, cases: list[Case]) -> list[Outcome]:
    outcomes = []
    for n, case in enumerate(cases):
        for channel in ("api", "form"):
            reference = f"CORPUS-{n:02d}-{channel}"
            (status, said, entry_id), traced, rss = measure(send, client, case, channel, reference)
            outcomes.append(Outcome(case.kind, channel, status, said, entry_id, traced, rss))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """The outcomes as a Markdown table (for the note and docs/ASSURANCE.md)."""
    lines = [
        "| # | kind | door | status | answer | peak traced MiB | peak RSS growth MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, o in enumerate(outcomes):
        said = o.verdict.replace("|", "/").replace("\n", " ")[:90]
        rss = "n/a" if o.rss_peak_mib is None else f"{o.rss_peak_mib:.1f}"
        lines.append(
            f"| {i // 2 + 1} | {o.kind} | {o.channel} | {o.status} | {said} | "
            f"{o.traced_peak_mib:.1f} | {rss} |"
        )
    return "\n".join(lines)


def summary(cases: list[Case], outcomes: list[Outcome]) -> str:
    """The figure line (docs/ASSURANCE.md): what was refused, stored clean, failed."""
    refused = sum(o.status == 400 for o in outcomes)
    stored = sum(o.entry_id is not None for o in outcomes)
    errors = sum(o.status >= 500 for o in outcomes)
    worst = max(outcomes, key=lambda o: o.rss_peak_mib or o.traced_peak_mib)
    return (
        f"upload corpus: {len(cases)} kinds x 2 doors (API, form) = {len(outcomes)} uploads: "
        f"{refused} refused with a reason, {stored} stored re-encoded and clean, "
        f"{errors} server errors | measured: largest peak {worst.kind} via {worst.channel} "
        f"({worst.traced_peak_mib:.0f} MiB traced, {worst.rss_peak_mib or 0:.0f} MiB RSS growth)"
    )
