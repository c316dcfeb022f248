"""What leaves as a file: CSV cells safe to open in a spreadsheet (oversight's and the
public exports), and a reference image's JPEG."""

from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iso_time(moment: datetime | None, *, timespec: str = "auto") -> str | None:
    """ISO 8601 in the force's zone with its UTC offset (2026-07-10T11:00:00+01:00): what
    exports and the API carry, so a reader in any zone, or a program, reads one instant."""
    return timezone.localtime(moment).isoformat(timespec=timespec) if moment else None


def csv_cell(value):
    """A CSV cell; text a spreadsheet would run as a formula is prefixed with a quote.

    Exports carry free text typed by users (purposes, reasons, site names), and they are
    opened in spreadsheets by reviewers and the public: "=HYPERLINK(...)" must stay text.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def jpeg_response(jpeg: bytes, *, filename: str) -> HttpResponse:
    """An image shown once: never cached, never sniffed as anything but a JPEG."""
    response = HttpResponse(bytes(jpeg), content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
