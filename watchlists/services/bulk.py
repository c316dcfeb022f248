"""Bulk import of watchlist proposals, for the import command and the import page alike.

Every file goes through the intake gate and every entry lands pending: an import never
approves (the two-person rule holds for each entry). Files are grouped by subject; a
subject's accepted images become one entry. Each file gets a line in the report: added,
duplicate or refused, and why.
"""

import csv
import io
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from core import access
from core.services import audit_record
from recognition.engine.intake import IntakeError
from watchlists import selectors
from watchlists.models import Subject

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
# The entry's fields an import sets for all its files (a manifest row may override them).
ENTRY_FIELDS = ("category", "legal_basis", "provenance", "case_reference", "expires", "taken_on")
# A ZIP from the page: bounded before anything is decompressed.
ZIP_MAX_FILES = 2000
ZIP_MAX_TOTAL_BYTES = 500 * 1024 * 1024
# A member is inflated in chunks; past ZIP_RATIO_FROM bytes it may not have shrunk more
# than ZIP_MAX_RATIO times in the archive (photographs barely compress at all).
ZIP_READ_CHUNK = 64 * 1024
ZIP_RATIO_FROM = 1024 * 1024
ZIP_MAX_RATIO = 100


@dataclass
class Item:
    """One file to import and the fields of the entry it belongs to."""

    name: str  # as shown in the report
    load: Callable[[], bytes]
    subject: str
    display_name: str
    date_of_birth: str = ""
    overrides: dict = field(default_factory=dict)
    outcome: str = ""
    detail: str = ""
    result: object = None

    def as_row(self) -> dict:
        return {
            "subject": self.subject,
            "file": self.name,
            "outcome": self.outcome,
            "detail": self.detail,
        }


def _display_name(folder: str) -> str:
    return folder.replace("_", " ").replace("-", " ").title()


def items_from_folders(root: Path) -> list[Item]:
    """One sub-folder per subject, named by its reference."""
    items = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                items.append(
                    Item(
                        name=path.name,
                        load=path.read_bytes,
                        subject=folder.name,
                        display_name=_display_name(folder.name),
                    )
                )
    return items


def items_from_manifest(manifest: Path) -> list[Item]:
    """A CSV: path, subject_reference, display_name, date_of_birth and optional overrides."""
    items = []
    with manifest.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"path", "subject_reference"} - set(reader.fieldnames or [])
        if missing:
            raise ValidationError(f"{manifest.name}: the manifest lacks columns {sorted(missing)}")
        for row in reader:
            path = (manifest.parent / row["path"]).resolve()
            overrides = {k: row[k] for k in ENTRY_FIELDS if row.get(k)}
            items.append(
                Item(
                    name=path.name,
                    load=path.read_bytes,
                    subject=row["subject_reference"].strip(),
                    display_name=(row.get("display_name") or row["subject_reference"]).strip(),
                    date_of_birth=(row.get("date_of_birth") or "").strip(),
                    overrides=overrides,
                )
            )
    return items


def items_from_zip(data: bytes) -> list[Item]:
    """A ZIP of one folder per subject (a single top folder around them is allowed).

    Refused whole, before any member is decompressed, when it is not a ZIP, holds too
    many files or declares too many bytes; members outside a subject folder, hidden
    files, non-images and members declaring more than the upload limit are left out (and
    listed as refused). A member is inflated only when its file is inspected, in chunks
    (`_read_member`): one that unpacks beyond the limit whatever it declared, or is
    compressed implausibly well, is refused there and the others go on.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
        raise ValidationError("The file is not a ZIP archive.")
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > ZIP_MAX_FILES:
        raise ValidationError(f"The ZIP holds {len(members)} files; at most {ZIP_MAX_FILES}.")
    limit = settings.LFR_MAX_UPLOAD_BYTES
    if sum(m.file_size for m in members if m.file_size <= limit) > ZIP_MAX_TOTAL_BYTES:
        raise ValidationError(
            f"The ZIP unpacks to more than {ZIP_MAX_TOTAL_BYTES // 2**20} MB; split it."
        )
    paths = [PurePosixPath(m.filename) for m in members]
    tops = {p.parts[0] for p in paths if len(p.parts) > 2}
    strip = 1 if len(tops) == 1 and all(len(p.parts) >= 3 for p in paths) else 0
    items = []
    for member, path in zip(members, paths, strict=True):
        parts = path.parts[strip:]
        hidden = any(part.startswith(".") or part == "__MACOSX" for part in path.parts)
        if hidden:
            continue
        if len(parts) != 2 or ".." in parts or path.is_absolute():
            items.append(_refused(member.filename, "not inside one subject folder"))
            continue
        if PurePosixPath(parts[1]).suffix.lower() not in IMAGE_SUFFIXES:
            items.append(_refused(member.filename, "not a JPEG or PNG file"))
            continue
        if member.file_size > limit:
            items.append(_refused(member.filename, "larger than the upload limit"))
            continue
        items.append(
            Item(
                name=parts[1],
                load=lambda member=member: _read_member(archive, member, limit),
                subject=parts[0],
                display_name=_display_name(parts[0]),
            )
        )
    return items


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    """The member's bytes, inflated a chunk at a time and never past `limit` bytes, or
    OSError saying why not (the import reports it as that file's refusal).

    The declared size is not trusted (`archive.read` inflated a whole member at once: a
    1 MB archive took 2 GB), nor is a ratio no photograph has: JPEG and PNG are already
    compressed, so a member that shrank over ZIP_MAX_RATIO times is not one.
    """
    chunks, size = [], 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(ZIP_READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise OSError("it unpacks to more than the upload limit")
                if size > ZIP_RATIO_FROM and size > ZIP_MAX_RATIO * max(member.compress_size, 1):
                    raise OSError(f"compressed over {ZIP_MAX_RATIO} times: not a photograph")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise OSError(f"damaged in the ZIP ({exc})") from None
    except (NotImplementedError, RuntimeError):  # another compression method, a password
        raise OSError("stored in a way this import cannot read (encrypted or unusual)") from None
    return b"".join(chunks)


def _refused(name: str, why: str) -> Item:
    return Item(name=name, load=bytes, subject="", display_name="", outcome="refused", detail=why)


def _expiry(value: str | None):
    if not value:
        return None
    day = parse_date(value) if isinstance(value, str) else value
    if day is None:
        raise ValidationError(f"The expiry must be a date (YYYY-MM-DD), got {value!r}.")
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def _taken_on(value):
    """An import's "taken on" date; blank is "unknown" (recorded and flagged as such)."""
    if not value:
        return None
    day = parse_date(value) if isinstance(value, str) else value
    if day is None:
        raise ValidationError(f"The date taken must be a date (YYYY-MM-DD), got {value!r}.")
    return day


def watchlist_import(
    *,
    by,
    items: list[Item],
    defaults: dict,
    source: str,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict:
    """Inspect every file, submit one pending entry per subject, audit the totals.

    `defaults` holds category, legal_basis, provenance, case_reference, expires and
    taken_on (a manifest row may override them; no taken_on records "unknown");
    `progress(done, total)` is told after each file.
    Returns the totals; each item's outcome and detail are filled in.
    """
    from watchlists import services

    access.require(by, "watchlist", "submit")
    total = len(items)
    done = 0
    for item in items:
        if not item.outcome:
            try:
                item.result = services.image_inspect(item.load())
            except OSError as exc:
                item.outcome, item.detail = "refused", f"unreadable: {exc.strerror or exc}"
            except IntakeError as exc:
                item.outcome, item.detail = "refused", f"{exc.rule}: {exc.message}"
        done += 1
        progress(done, total)
    by_subject: dict[str, list[Item]] = {}
    for item in items:
        if item.result is not None:
            by_subject.setdefault(item.subject, []).append(item)
    for subject_ref, group in by_subject.items():
        _submit(by, subject_ref, group, defaults)
    totals = import_totals(items)
    with transaction.atomic():
        audit_record(
            actor=by,
            action="watchlist.import",
            object_type="watchlists.watchlistentry",
            details=totals | {"source": source},
        )
    return totals


def _submit(user, subject_ref: str, group: list[Item], defaults: dict) -> None:
    from watchlists import services

    fields = defaults | group[0].overrides
    existing = Subject.objects.filter(reference=subject_ref).first()
    known = selectors.subject_encodings(existing) if existing else []
    accepted = []
    for item in group:
        dup = services.duplicate_of(item.result, known)
        if dup:
            item.outcome = "duplicate"
            item.detail = f"same face as image {dup}" if dup is not True else "same face as above"
            continue
        known.append((None, services.encoding_bytes(item.result), item.result.pixel_sha256))
        accepted.append(item)
    # One person per subject: an import cannot record why a far photo is the same person.
    for apart in services.new_photos_apart(subject=existing, images=[i.result for i in accepted]):
        item = accepted[apart.index]
        other = accepted[apart.other_index].name if apart.other_index is not None else apart.other
        item.outcome = "refused"
        item.detail = (
            f"different people: {apart.distance:.2f} from {other}, beyond the same-person "
            f"bound {selectors.SAME_PERSON_DISTANCE}; if it is one person, submit the photo "
            "on its own with a reason"
        )
    accepted = [item for item in accepted if not item.outcome]
    if not accepted:
        return
    first = group[0]
    try:
        entry = services.entry_submit(
            by=user,
            subject=services.SubjectInput(
                # A held subject keeps its name: the folder's name is only for a new one.
                reference=subject_ref,
                display_name="" if existing else first.display_name,
                date_of_birth=parse_date(first.date_of_birth) if first.date_of_birth else None,
            ),
            category=fields["category"],
            legal_basis=fields["legal_basis"],
            case_reference=fields["case_reference"],
            provenance=fields["provenance"],
            images=[item.result for item in accepted],
            expires_at=_expiry(fields.get("expires")),
            taken_on=_taken_on(fields.get("taken_on")),
        )
    except (ValidationError, IntakeError) as exc:
        why = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        for item in accepted:
            item.outcome, item.detail = "refused", why
        return
    for item in accepted:
        item.outcome, item.detail = "added", f"entry {entry.pk} (pending)"


def import_totals(items: list[Item]) -> dict:
    totals = {"files": len(items), "added": 0, "duplicate": 0, "refused": 0}
    for item in items:
        totals[item.outcome] = totals.get(item.outcome, 0) + 1
    totals["subjects"] = len({i.subject for i in items if i.outcome == "added"})
    return totals


# --- import jobs: the page's imports, run by a Celery worker ------------------------------


def import_job_create(*, by, archive: bytes, source_name: str, fields: dict):
    """Queue an import of a ZIP (one folder per subject); refused at once if it cannot run."""
    from watchlists.models import Category, ImportJob

    access.require(by, "watchlist_import", "create")
    if fields.get("category") not in Category.values:
        raise ValidationError({"category": "Choose a category (there is no catch-all)."})
    for key, label in (("legal_basis", "legal basis"), ("provenance", "provenance")):
        if not (fields.get(key) or "").strip():
            raise ValidationError({key: f"State the {label} for these images."})
    items = items_from_zip(archive)  # refuses a bad or oversized archive now, not later
    if not items:
        raise ValidationError("The ZIP holds no JPEG or PNG files in subject folders.")
    job = ImportJob.objects.create(
        by=by,
        source_name=source_name[:200],
        fields={k: str(v) if v is not None else "" for k, v in fields.items()},
        archive=archive,
        total=len(items),
    )
    audit_record(actor=by, action="watchlist.import_queued", obj=job, details={"files": len(items)})
    return job


def import_job_run(*, job_id: int) -> str:
    """Run a queued import (a worker's task): claim it, import, store the report."""
    from watchlists.models import ImportJob

    won = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING
    )
    if not won:
        return "not queued"  # run already, or by another worker
    job = ImportJob.objects.select_related("by").get(pk=job_id)
    try:
        items = items_from_zip(bytes(job.archive))
        totals = watchlist_import(
            by=job.by,
            items=items,
            defaults={
                "category": job.fields.get("category", ""),
                "legal_basis": job.fields.get("legal_basis", ""),
                "provenance": job.fields.get("provenance", ""),
                "case_reference": job.fields.get("case_reference") or f"import {job.pk}",
                "expires": job.fields.get("expires", ""),
                "taken_on": job.fields.get("taken_on", ""),
            },
            source=job.source_name,
            progress=lambda done, total: ImportJob.objects.filter(pk=job_id).update(
                processed=done, total=total
            ),
        )
    except Exception as exc:
        ImportJob.objects.filter(pk=job_id).update(
            state=ImportJob.State.FAILED,
            error=f"The import stopped: {type(exc).__name__}. Nothing after it was imported.",
            archive=None,
            finished_at=timezone.now(),
        )
        raise
    ImportJob.objects.filter(pk=job_id).update(
        state=ImportJob.State.DONE,
        report=[item.as_row() for item in items],
        totals=totals,
        archive=None,
        finished_at=timezone.now(),
    )
    return "done"
