"""Reads of watchlist data: lists for pages and API, and what deployments may freeze."""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404

from core import access
from recognition.engine.subjects import photos_apart, template_rows
from watchlists.models import (
    Category,
    ReferenceImage,
    Subject,
    WatchlistEntry,
    born_after_is_minor,
    image_age_days,
    image_is_stale,
)


@dataclass(frozen=True)
class SnapshotRow:
    """One approved entry as a deployment snapshot needs it: id, reference, category, faces."""

    entry_id: int
    subject_reference: str
    category: str
    encodings: list[bytes]  # each 128 float32 = 512 bytes
    is_test: bool = False  # a blue-list test subject (staff volunteer)


def _minor_q(at: datetime) -> Q:
    """Subjects born less than 18 years before `at` (unknown birth date counts as adult)."""
    return Q(subject__date_of_birth__gt=born_after_is_minor(at.date()))


def _live_entries(*, categories: list[str] | None, at: datetime, test: bool = False) -> QuerySet:
    """Approved, unexpired entries with an encoding: operational ones, or (`test`) only
    the blue-list test subjects, which never count as operational."""
    qs = WatchlistEntry.objects.filter(
        state=WatchlistEntry.State.APPROVED, purged_at__isnull=True, is_test_subject=test
    ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
    if categories is not None:
        qs = qs.filter(category__in=list(categories))
    return qs.filter(images__encoding__isnull=False).distinct()


def snapshot_candidates(
    *, categories: list[str], include_minors: bool, at: datetime, include_test_subjects=False
) -> list[SnapshotRow]:
    """Approved, unexpired, unpurged entries with at least one encoding, by entry id;
    then, when asked, every approved test subject (whatever its category)."""
    qs = _live_entries(categories=categories, at=at)
    if not include_minors:
        qs = qs.exclude(_minor_q(at))
    entries = list(qs.select_related("subject").order_by("pk"))
    if include_test_subjects:
        tests = _live_entries(categories=None, at=at, test=True).select_related("subject")
        entries += list(tests.order_by("pk"))
    encodings: dict[int, list[bytes]] = {e.pk: [] for e in entries}
    images = (
        ReferenceImage.objects.filter(entry_id__in=list(encodings), encoding__isnull=False)
        .order_by("entry_id", "pk")
        .values_list("entry_id", "encoding")
    )
    for entry_id, enc in images:
        encodings[entry_id].append(bytes(enc))
    _drop_photos_apart(entries, encodings)
    return [
        SnapshotRow(
            entry_id=e.pk,
            subject_reference=e.subject.reference,
            category=e.category,
            encodings=encodings[e.pk],
            is_test=e.is_test_subject,
        )
        for e in entries
    ]


def _drop_photos_apart(entries: list[WatchlistEntry], encodings: dict[int, list[bytes]]) -> None:
    """Freeze a subject's photos minus any that stand apart from the rest: an outlier
    (a second person's photo approved with a reason) must not alert as the subject."""
    by_subject: dict[int, list[tuple[int, bytes]]] = {}
    for e in entries:
        by_subject.setdefault(e.subject_id, []).extend((e.pk, b) for b in encodings[e.pk])
    for photos in by_subject.values():
        kept = set(
            template_rows(
                [np.frombuffer(b, dtype=np.float32) for _, b in photos], SAME_PERSON_DISTANCE
            )
        )
        if len(kept) == len(photos):
            continue
        for entry_id in {entry_id for entry_id, _ in photos}:
            encodings[entry_id] = []
        for i, (entry_id, blob) in enumerate(photos):
            if i in kept:
                encodings[entry_id].append(blob)


def blue_list_subject_count(*, at: datetime) -> int:
    """Approved test subjects a deployment that opts in would freeze."""
    return _live_entries(categories=None, at=at, test=True).count()


def blue_list_subjects(*, at: datetime) -> list[WatchlistEntry]:
    """The approved test subjects, for recording a walk-through (reference and name)."""
    qs = _live_entries(categories=None, at=at, test=True).select_related("subject")
    return list(qs.order_by("subject__reference"))


def counts_by_category(
    *, categories: list[str] | None, include_minors: bool, at: datetime
) -> dict[str, int]:
    """Watchlist size per category at `at`, plus "excluded_minors" (0 when included)."""
    qs = _live_entries(categories=categories, at=at)
    keys = list(categories) if categories is not None else list(Category.values)
    counts = {key: 0 for key in keys}
    minors = 0
    rows = qs.values_list("pk", "category", "subject__date_of_birth")
    cutoff = born_after_is_minor(at.date())
    for _pk, category, dob in rows:
        if dob is not None and dob > cutoff and not include_minors:
            minors += 1
            continue
        counts[category] = counts.get(category, 0) + 1
    counts["excluded_minors"] = minors
    return counts


@dataclass(frozen=True)
class StaleEntry:
    """An entry a snapshot would take whose newest image is old, or of unknown age."""

    entry_id: int
    category: str
    newest_taken_on: object  # date | None
    age_days: int | None


def stale_image_entries(
    *, categories: list[str], include_minors: bool, at: datetime
) -> list[StaleEntry]:
    """Entries the snapshot at `at` would take whose NEWEST held image is past
    LFR_IMAGE_MAX_AGE_DAYS or undated: one recent image is enough (APP asks for the most
    recent suitable image, not that every image be recent). Ids and dates only."""
    qs = _live_entries(categories=categories, at=at)
    if not include_minors:
        qs = qs.exclude(_minor_q(at))
    entries = dict(qs.values_list("pk", "category"))
    newest: dict[int, object] = {pk: None for pk in entries}
    images = ReferenceImage.objects.filter(entry_id__in=list(entries), encoding__isnull=False)
    for entry_id, taken_on in images.values_list("entry_id", "taken_on"):
        if taken_on is not None and (newest[entry_id] is None or taken_on > newest[entry_id]):
            newest[entry_id] = taken_on
    today = at.date()
    return [
        StaleEntry(pk, entries[pk], newest[pk], image_age_days(newest[pk], today))
        for pk in sorted(entries)
        if image_is_stale(newest[pk], today)
    ]


def reference_image_for_entry(entry_id: int) -> ReferenceImage | None:
    """The entry's image with the largest face whose JPEG is still held, or None."""
    return (
        ReferenceImage.objects.filter(entry_id=entry_id, jpeg__isnull=False)
        .order_by("-face_px", "pk")
        .first()
    )


# --- pages and API -----------------------------------------------------------------------


def entry_list(*, user, state: str = "", category: str = "", q: str = "") -> QuerySet:
    """Entries the user may see, filtered; visibility itself is checked by the caller."""
    access.require(user, "watchlist", "list")
    qs = WatchlistEntry.objects.select_related("subject", "submitted_by", "decided_by")
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category=category)
    if q:
        qs = qs.filter(
            Q(subject__reference__icontains=q)
            | Q(subject__display_name__icontains=q)
            | Q(case_reference__icontains=q)
        )
    return qs.order_by("-submitted_at", "-pk")


def review_queue() -> QuerySet:
    """Pending entries, oldest first (the manager works the queue from the top)."""
    return (
        WatchlistEntry.objects.filter(state=WatchlistEntry.State.PENDING)
        .select_related("subject", "submitted_by")
        .order_by("submitted_at", "pk")
    )


def subject_images(subject: Subject, *, exclude_entry_id: int | None = None) -> QuerySet:
    """Images of a subject still held, other entries first — shown beside a candidate."""
    qs = ReferenceImage.objects.filter(entry__subject=subject, jpeg__isnull=False)
    if exclude_entry_id is not None:
        qs = qs.exclude(entry_id=exclude_entry_id)
    return qs.select_related("entry").order_by("-created_at")


def subject_encodings(subject: Subject) -> list[tuple[int, bytes, str]]:
    """(image id, encoding, pixel sha256) of the subject's unpurged images, for duplicates."""
    return [
        (pk, bytes(enc), sha)
        for pk, enc, sha in ReferenceImage.objects.filter(
            entry__subject=subject, encoding__isnull=False
        ).values_list("pk", "encoding", "pixel_sha256")
    ]


def entry_get(*, user, entry_id: int) -> WatchlistEntry:
    """One entry for a user who may see watchlists (404 for everyone else, and if missing)."""
    access.require(user, "watchlist", "view")
    entry = (
        WatchlistEntry.objects.select_related("subject", "submitted_by", "decided_by")
        .prefetch_related("images__entry")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None:
        raise Http404("No such watchlist entry.")
    return entry


# dlib's published same-person tolerance: above it a candidate probably shows someone else.
SAME_PERSON_DISTANCE = 0.6


def candidate_distance(entry: WatchlistEntry) -> float | None:
    """Smallest face distance between the entry's images and the subject's other images.

    Shown to the reviewing manager: a candidate far from every image already held for the
    subject may be the wrong person. None when there is nothing to compare.
    """
    mine = [
        np.frombuffer(bytes(e), dtype=np.float32)
        for e in entry.images.filter(encoding__isnull=False).values_list("encoding", flat=True)
    ]
    theirs = [
        np.frombuffer(bytes(e), dtype=np.float32)
        for e in ReferenceImage.objects.filter(entry__subject_id=entry.subject_id)
        .exclude(entry_id=entry.pk)
        .filter(encoding__isnull=False)
        .values_list("encoding", flat=True)
    ]
    if not mine or not theirs:
        return None
    return round(min(float(np.linalg.norm(a - b)) for a in mine for b in theirs), 3)


# --- one person per subject ------------------------------------------------------------


@dataclass(frozen=True)
class PhotoApart:
    """A held photo of a subject that stands apart from its other photos, and the nearest."""

    image_id: int
    other_image_id: int
    distance: float


def subject_person_photos(subject_id: int) -> list[tuple[int, int, bytes]]:
    """(image id, entry id, encoding) of the subject's pending and approved photos held now."""
    return [
        (pk, entry_id, bytes(enc))
        for pk, entry_id, enc in ReferenceImage.objects.filter(
            entry__subject_id=subject_id,
            entry__state__in=[WatchlistEntry.State.PENDING, WatchlistEntry.State.APPROVED],
            entry__purged_at__isnull=True,
            encoding__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", "entry_id", "encoding")
    ]


def entries_photos_apart(entries: list[WatchlistEntry]) -> dict[int, list[PhotoApart]]:
    """For each entry, its photos that stand apart from the subject's other photos (the
    manager sees each beside the nearest other photo), and other photos that stand apart
    from one of its photos."""
    found: dict[int, list[PhotoApart]] = {}
    by_subject: dict[int, list] = {}
    for entry in entries:
        if entry.subject_id not in by_subject:
            by_subject[entry.subject_id] = subject_person_photos(entry.subject_id)
        photos = by_subject[entry.subject_id]
        apart = photos_apart(
            [np.frombuffer(enc, dtype=np.float32) for _, _, enc in photos], SAME_PERSON_DISTANCE
        )
        pairs: dict[frozenset, PhotoApart] = {}
        for a in apart:  # two photos that disagree are one pair, whichever stands apart
            mine, other = photos[a.index], photos[a.nearest]
            if entry.pk in {mine[1], other[1]}:
                if mine[1] != entry.pk:
                    mine, other = other, mine
                pairs.setdefault(
                    frozenset((mine[0], other[0])), PhotoApart(mine[0], other[0], a.distance)
                )
        found[entry.pk] = list(pairs.values())
    return found


# --- one person under two references ----------------------------------------------------


@dataclass(frozen=True)
class NearMatch:
    """A held image of another subject close to a candidate face, and how close."""

    subject_id: int
    subject_reference: str
    entry_id: int
    entry_state: str
    image_id: int
    distance: float

    def as_dict(self) -> dict:
        # No encoding, crop or image: references, ids and a distance only (audit-safe).
        return {
            "subject": self.subject_reference,
            "entry": self.entry_id,
            "state": self.entry_state,
            "image_id": self.image_id,
            "distance": self.distance,
        }


def near_distance() -> float:
    """How close counts as "the same person" across subjects: the deployment maximum.

    Two held images closer than LFR_THRESHOLD_MAX can both alert on one passer-by in some
    authorised deployment, so for the system they are one person. On the sample set the
    farthest same-person pair is 0.517 and the closest two different people 0.658
    (docs/OPERATING_POINT.md): 0.60 catches every measured same-person pair, flags no stranger.
    """
    return settings.LFR_THRESHOLD_MAX


def near_matches_many(
    candidates: dict[object, tuple[list[bytes], int | None, str]],
) -> dict[object, list[NearMatch]]:
    """For each key's (encodings, own subject id, own subject reference): held images of
    *other* subjects within near_distance(), one per other entry (its closest), closest first.

    Held = the images of pending and approved, unpurged entries. Every held encoding is
    read once and compared with all candidates of the call in one matrix product, so a
    review page of 20 entries costs one pass, not 20; the database read dominates.
    """
    found: dict[object, dict[int, NearMatch]] = {key: {} for key in candidates}
    keys, columns = [], []
    for key, (encodings, _, _) in candidates.items():
        keys += [key] * len(encodings)
        columns += [bytes(e) for e in encodings]
    rows = []
    if columns:
        rows = list(
            ReferenceImage.objects.filter(
                entry__state__in=[WatchlistEntry.State.PENDING, WatchlistEntry.State.APPROVED],
                entry__purged_at__isnull=True,
                encoding__isnull=False,
            ).values_list(
                "pk",
                "entry_id",
                "entry__state",
                "entry__subject_id",
                "entry__subject__reference",
                "encoding",
            )
        )
    if rows:
        held = np.frombuffer(b"".join(bytes(r[5]) for r in rows), dtype=np.float32)
        held = held.reshape(len(rows), -1)
        mine = np.frombuffer(b"".join(columns), dtype=np.float32).reshape(len(columns), -1)
        # |h - c|^2 = |h|^2 + |c|^2 - 2 h.c: one (N, M) product over every held encoding.
        squared = held @ mine.T
        squared *= -2.0
        squared += np.einsum("ij,ij->i", held, held)[:, None]
        squared += np.einsum("ij,ij->i", mine, mine)[None, :]
        distances = np.sqrt(np.maximum(squared, 0.0))
        for i, j in zip(*np.nonzero(distances <= near_distance()), strict=True):
            image_id, entry_id, state, subject_id, reference, _ = rows[i]
            _, own_id, own_reference = candidates[keys[j]]
            if subject_id == own_id or reference == own_reference:
                continue
            distance = round(float(distances[i, j]), 3)
            best = found[keys[j]].get(entry_id)
            if best is None or distance < best.distance:
                found[keys[j]][entry_id] = NearMatch(
                    subject_id=subject_id,
                    subject_reference=reference,
                    entry_id=entry_id,
                    entry_state=state,
                    image_id=image_id,
                    distance=distance,
                )
    return {
        key: sorted(matches.values(), key=lambda m: (m.distance, m.entry_id))
        for key, matches in found.items()
    }


def near_matches(encodings: list[bytes], *, exclude_subject_reference: str = "") -> list:
    """Held images of other subjects near these (unsaved) encodings: the live check."""
    return near_matches_many({0: (encodings, None, exclude_subject_reference)})[0]


def entries_near_matches(entries: list[WatchlistEntry]) -> dict[int, list[NearMatch]]:
    """Other subjects' held images near each entry's faces (unaudited: services audit)."""
    encodings: dict[int, list[bytes]] = {e.pk: [] for e in entries}
    for entry_id, enc in (
        ReferenceImage.objects.filter(entry_id__in=list(encodings), encoding__isnull=False)
        .order_by("pk")
        .values_list("entry_id", "encoding")
    ):
        encodings[entry_id].append(bytes(enc))
    return near_matches_many(
        {e.pk: (encodings[e.pk], e.subject_id, e.subject.reference) for e in entries}
    )


def entry_near_matches(entry: WatchlistEntry) -> list[NearMatch]:
    return entries_near_matches([entry])[entry.pk]


def images_by_id(ids: list[int]) -> dict[int, ReferenceImage]:
    """Reference images by id, with their entry (a handful, for display)."""
    return ReferenceImage.objects.select_related("entry__subject").in_bulk(list(ids))


# --- what waits (the home page and navigation badges, through core.work) ---------------


def waiting_for(user) -> list:
    from django.urls import reverse

    from core.work import FIRST_ITEMS, Waiting

    found = []
    if access.can(user, "watchlist", "approve"):
        # The two-person rule: a manager's own submissions wait for someone else.
        queue = review_queue().exclude(submitted_by=user)
        first = list(queue[:FIRST_ITEMS])
        found.append(
            Waiting(
                key="watchlist.review",
                label="watchlist entries wait for your review",
                one="watchlist entry waits for your review",
                count=queue.count(),
                url=reverse("watchlists:queue"),
                nav="watchlists:queue",
                items=[
                    (
                        f"{e.subject.reference} ({e.get_category_display()}), "
                        f"submitted by {e.submitted_by.get_username()}",
                        reverse("watchlists:entry", args=[e.pk]),
                    )
                    for e in first
                ],
            )
        )
    if access.can(user, "watchlist", "submit"):
        mine = WatchlistEntry.objects.filter(submitted_by=user).select_related("subject")
        pending = mine.filter(state=WatchlistEntry.State.PENDING)
        found.append(
            Waiting(
                key="watchlist.mine_pending",
                label="of your entries wait for a manager's decision",
                one="of your entries waits for a manager's decision",
                count=pending.count(),
                url=reverse("watchlists:entries") + "?state=pending",
            )
        )
        rejected = mine.filter(state=WatchlistEntry.State.REJECTED).order_by("-decided_at")
        found.append(
            Waiting(
                key="watchlist.mine_rejected",
                label="of your entries were rejected: read why",
                one="of your entries was rejected: read why",
                count=rejected.count(),
                url=reverse("watchlists:entries") + "?state=rejected",
                items=[
                    (e.subject.reference, reverse("watchlists:entry", args=[e.pk]))
                    for e in rejected[:FIRST_ITEMS]
                ],
            )
        )
    return found
