"""The watchlist frozen at authorisation: made, discarded when the plan no longer stands,
and summarised for the audit trail."""

from datetime import datetime

import numpy as np
from django.core.exceptions import ValidationError

from core.services import audit_record
from deployments import selectors
from deployments.models import Deployment, DeploymentWatchlist


def _snapshot_freeze(*, deployment: Deployment, now: datetime) -> DeploymentWatchlist:
    """Copy the approved entries' encodings now; later approvals never reach this copy."""
    rows = selectors.watchlist_candidates(deployment=deployment, at=now)
    counts = selectors.watchlist_counts(deployment=deployment, at=now)
    # Test subjects (blue-list) ride along but are no part of the authorised size.
    entries = {row.entry_id: row for row in rows if not row.is_test}
    test_ids = sorted({row.entry_id for row in rows if row.is_test})
    if len(entries) > deployment.max_watchlist_size:
        raise ValidationError(
            f"The watchlist for {', '.join(deployment.watchlist_categories)} has "
            f"{len(entries)} entries, more than the maximum of {deployment.max_watchlist_size} "
            "in this plan: narrow the categories or raise the maximum (an edit, which needs "
            "authorising again)."
        )
    entry_ids, references, blobs = [], [], []
    size_by_category: dict[str, int] = {}
    for row in rows:
        if not row.is_test:
            size_by_category[row.category] = size_by_category.get(row.category, 0) + 1
        for blob in row.encodings:
            entry_ids.append(row.entry_id)
            references.append(row.subject_reference)
            blobs.append(np.frombuffer(blob, dtype=np.float32))
    matrix = np.vstack(blobs).astype(np.float32) if blobs else np.zeros((0, 128), np.float32)
    if matrix.shape[1:] != (128,):
        raise ValidationError("A reference encoding has the wrong shape; re-enrol the entry.")
    DeploymentWatchlist.objects.filter(deployment=deployment).delete()
    return DeploymentWatchlist.objects.create(
        deployment=deployment,
        frozen_at=now,
        entry_ids=entry_ids,
        subject_references=references,
        encodings=matrix.tobytes(),
        size_by_category=size_by_category,
        entry_count=len(entries),
        excluded_minors=int(counts.get("excluded_minors", 0)),
        test_entry_ids=test_ids,
    )


def _snapshot_discard(*, deployment: Deployment, by, why: str) -> None:
    """Destroy a snapshot that will never be used (edit, cancel); a receipt, no content."""
    wl = DeploymentWatchlist.objects.filter(deployment=deployment).first()
    if wl is None:
        return
    audit_record(
        actor=by,
        action="deployment.watchlist_discarded",
        obj=deployment,
        details={"rows": len(wl.entry_ids), "entries": wl.entry_count, "why": why},
    )
    wl.delete()


def _snapshot_summary(wl: DeploymentWatchlist) -> dict:
    return {
        "entries": wl.entry_count,
        "rows": len(wl.entry_ids),
        "size_by_category": wl.size_by_category,
        "excluded_minors": wl.excluded_minors,
        "test_subjects": len(wl.test_entry_ids),
    }
