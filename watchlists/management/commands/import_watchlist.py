"""Bulk import of watchlist proposals: every entry lands pending; this never approves."""

import csv
import sys
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from tqdm import tqdm

from core import access
from core.services import audit_record
from recognition.engine.intake import IntakeError
from watchlists import selectors, services
from watchlists.models import Category, Subject

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
MANIFEST_FIELDS = ["path", "subject_reference", "display_name", "date_of_birth"]


@dataclass
class Item:
    """One file to import and the fields of the entry it belongs to."""

    path: Path
    subject: str
    display_name: str
    date_of_birth: str = ""
    overrides: dict = field(default_factory=dict)
    outcome: str = ""
    detail: str = ""
    result: object = None


def _from_folders(root: Path) -> list[Item]:
    items = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                name = folder.name.replace("_", " ").replace("-", " ").title()
                items.append(Item(path=path, subject=folder.name, display_name=name))
    return items


def _from_manifest(manifest: Path) -> list[Item]:
    items = []
    with manifest.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"path", "subject_reference"} - set(reader.fieldnames or [])
        if missing:
            raise CommandError(f"{manifest}: the manifest lacks columns {sorted(missing)}")
        for row in reader:
            path = (manifest.parent / row["path"]).resolve()
            overrides = {
                k: row[k]
                for k in ("category", "legal_basis", "provenance", "case_reference", "expires")
                if row.get(k)
            }
            items.append(
                Item(
                    path=path,
                    subject=row["subject_reference"].strip(),
                    display_name=(row.get("display_name") or row["subject_reference"]).strip(),
                    date_of_birth=(row.get("date_of_birth") or "").strip(),
                    overrides=overrides,
                )
            )
    return items


def _expiry(value: str | None):
    if not value:
        return None
    day = parse_date(value)
    if day is None:
        raise CommandError(f"--expires must be a date (YYYY-MM-DD), got {value!r}")
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


class Command(BaseCommand):
    help = (
        "Propose watchlist entries from DIR (one folder per subject, named by its reference) "
        "or from a CSV manifest (columns: path, subject_reference, display_name, "
        "date_of_birth and optionally category, legal_basis, provenance, case_reference, "
        "expires). Entries land pending, submitted by --as; a manager must approve each."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="a folder of subject folders, or a .csv manifest")
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument("--category", choices=Category.values)
        parser.add_argument("--legal-basis", default="")
        parser.add_argument("--provenance", default="")
        parser.add_argument("--case-reference", default="")
        parser.add_argument("--expires", help="YYYY-MM-DD")

    def handle(self, *args, source, username, **opts):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        if not access.can(user, "watchlist", "submit"):
            raise CommandError(f"{username} does not hold the watchlist contributor role.")
        root = Path(source)
        if root.is_dir():
            missing = [o for o in ("category", "legal_basis", "provenance") if not opts[o]]
            if missing:
                flags = ", ".join("--" + o.replace("_", "-") for o in missing)
                raise CommandError(f"A folder import needs {flags} (a manifest may give them).")
            items = _from_folders(root)
        elif root.is_file() and root.suffix.lower() == ".csv":
            items = _from_manifest(root)
        else:
            raise CommandError(f"{source} is neither a folder nor a .csv manifest.")
        if not items:
            raise CommandError(f"No JPEG or PNG files found under {source}.")
        defaults = {
            "category": opts["category"] or "",
            "legal_basis": opts["legal_basis"],
            "provenance": opts["provenance"],
            "case_reference": opts["case_reference"] or f"import {root.stem}",
            "expires": opts["expires"] or "",
        }
        for item in tqdm(
            items, desc="inspecting", unit="file", file=sys.stderr, disable=opts["verbosity"] == 0
        ):
            self._inspect(item)
        by_subject: dict[str, list[Item]] = {}
        for item in items:
            by_subject.setdefault(item.subject, []).append(item)
        for subject_ref, group in by_subject.items():
            self._submit(user, subject_ref, group, defaults)
        self._report(items)
        with transaction.atomic():
            audit_record(
                actor=user,
                action="watchlist.import",
                object_type="watchlists.watchlistentry",
                details=self._totals(items) | {"source": str(root.name)},
            )

    def _inspect(self, item: Item) -> None:
        try:
            data = item.path.read_bytes()
            item.result = services.image_inspect(data)
        except OSError as exc:
            item.outcome, item.detail = "refused", f"unreadable: {exc.strerror}"
        except IntakeError as exc:
            item.outcome, item.detail = "refused", f"{exc.rule}: {exc.message}"

    def _submit(self, user, subject_ref: str, group: list[Item], defaults: dict) -> None:
        fields = defaults | group[0].overrides
        existing = Subject.objects.filter(reference=subject_ref).first()
        known = selectors.subject_encodings(existing) if existing else []
        accepted = []
        for item in group:
            if item.result is None:
                continue
            dup = services.duplicate_of(item.result, known)
            if dup:
                item.outcome = "duplicate"
                item.detail = (
                    f"same face as image {dup}" if dup is not True else "same face as above"
                )
                continue
            known.append((None, services.encoding_bytes(item.result), item.result.pixel_sha256))
            accepted.append(item)
        if not accepted:
            return
        try:
            entry = services.entry_submit(
                by=user,
                subject=services.SubjectInput(
                    reference=subject_ref,
                    display_name=group[0].display_name,
                    date_of_birth=parse_date(group[0].date_of_birth)
                    if group[0].date_of_birth
                    else None,
                ),
                category=fields["category"],
                legal_basis=fields["legal_basis"],
                case_reference=fields["case_reference"],
                provenance=fields["provenance"],
                images=[item.result for item in accepted],
                expires_at=_expiry(fields["expires"]),
            )
        except (ValidationError, IntakeError) as exc:
            why = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            for item in accepted:
                item.outcome, item.detail = "refused", why
            return
        for item in accepted:
            item.outcome, item.detail = "added", f"entry {entry.pk} (pending)"

    @staticmethod
    def _totals(items: list[Item]) -> dict:
        totals = {"files": len(items), "added": 0, "duplicate": 0, "refused": 0}
        for item in items:
            totals[item.outcome] = totals.get(item.outcome, 0) + 1
        totals["subjects"] = len({i.subject for i in items if i.outcome == "added"})
        return totals

    def _report(self, items: list[Item]) -> None:
        rows = [("subject", "file", "outcome", "detail")]
        rows += [(i.subject, i.path.name, i.outcome, i.detail) for i in items]
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        for n, row in enumerate(rows):
            line = "  ".join(row[c].ljust(widths[c]) for c in range(3)) + "  " + row[3]
            self.stdout.write(line.rstrip())
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths) + "  " + "-" * 6)
        t = self._totals(items)
        self.stdout.write(
            f"\n{t['files']} files: {t['added']} added to {t['subjects']} pending entries, "
            f"{t['duplicate']} duplicates, {t['refused']} refused. "
            "Nothing was approved: a watchlist manager must review each entry."
        )
