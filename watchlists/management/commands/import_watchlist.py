"""Bulk import of watchlist proposals: every entry lands pending; this never approves.

The work is watchlists.services.bulk's, shared with the import page.
"""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date
from tqdm import tqdm

from core import access
from watchlists.models import Category
from watchlists.services import bulk


class Command(BaseCommand):
    help = (
        "Propose watchlist entries from DIR (one folder per subject, named by its reference) "
        "or from a CSV manifest (columns: path, subject_reference, display_name, "
        "date_of_birth and optionally category, legal_basis, provenance, case_reference, "
        "expires, taken_on). Without --taken-on (or a taken_on column) the images' age is "
        "recorded as unknown and flagged on review. Entries land pending, submitted by --as; "
        "a manager must approve each."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="a folder of subject folders, or a .csv manifest")
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument("--category", choices=Category.values)
        parser.add_argument("--legal-basis", default="")
        parser.add_argument("--provenance", default="")
        parser.add_argument("--case-reference", default="")
        parser.add_argument("--expires", help="YYYY-MM-DD")
        parser.add_argument("--taken-on", help="YYYY-MM-DD: when the photos were taken")

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
            items = bulk.items_from_folders(root)
        elif root.is_file() and root.suffix.lower() == ".csv":
            try:
                items = bulk.items_from_manifest(root)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages))
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
            "taken_on": opts["taken_on"] or "",
        }
        if opts["expires"] and parse_date(opts["expires"]) is None:
            raise CommandError(f"--expires must be a date (YYYY-MM-DD), got {opts['expires']!r}")
        if opts["taken_on"] and parse_date(opts["taken_on"]) is None:
            raise CommandError(f"--taken-on must be a date (YYYY-MM-DD), got {opts['taken_on']!r}")
        bar = tqdm(
            total=len(items), desc="inspecting", unit="file", file=sys.stderr,
            disable=opts["verbosity"] == 0,
        )  # fmt: skip
        bulk.watchlist_import(
            by=user,
            items=items,
            defaults=defaults,
            source=root.name,
            progress=lambda done, total: bar.update(1),
        )
        bar.close()
        self._report(items)

    def _report(self, items: list[bulk.Item]) -> None:
        rows = [("subject", "file", "outcome", "detail")]
        rows += [(i.subject, i.name, i.outcome, i.detail) for i in items]
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        for n, row in enumerate(rows):
            line = "  ".join(row[c].ljust(widths[c]) for c in range(3)) + "  " + row[3]
            self.stdout.write(line.rstrip())
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths) + "  " + "-" * 6)
        t = bulk.import_totals(items)
        self.stdout.write(
            f"\n{t['files']} files: {t['added']} added to {t['subjects']} pending entries, "
            f"{t['duplicate']} duplicates, {t['refused']} refused. "
            "Nothing was approved: a watchlist manager must review each entry."
        )
