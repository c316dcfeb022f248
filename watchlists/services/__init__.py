"""Writes to watchlists: submission through the intake gate, two-person decisions,
withdrawal and expiry, retention, and audited image views."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from core import access
from core.models import AuditEvent
from core.notices import notify
from core.services import audit_record
from recognition.engine.intake import IntakeError, IntakeResult, inspect_image
from recognition.engine.subjects import photos_apart
from watchlists import selectors
from watchlists.models import Category, ReferenceImage, Subject, WatchlistEntry

State = WatchlistEntry.State

# Measured on the sample data: the same photo re-saved at JPEG q70 or halved in size sits
# 0.08-0.09 from the original (obama.jpg); different photos of one person 0.36-0.41
# (obama/obama2, biden/biden2, john1/john2, rose img1/img2); two people 0.86. Below 0.3
# is "the same face already on the subject": re-submissions, crops and re-scans.
DUPLICATE_DISTANCE = 0.3


class TransitionError(ValidationError):
    """The entry is no longer in a state that allows this action (someone got there first)."""


class DuplicateError(ValidationError):
    """Approval refused: the entry's face is held under another subject and no reason given."""

    def __init__(self, matches: list[selectors.NearMatch]):
        self.matches = matches
        refs = ", ".join(
            f"{m.subject_reference} (entry {m.entry_id}, {m.distance:.3f})" for m in matches
        )
        super().__init__(
            {
                "duplicate_reason": f"This face is already held under another subject: {refs}. "
                "Approving it needs a duplicate reason (why two references for one person)."
            },
            code="duplicate",
        )


def image_inspect(data: bytes) -> IntakeResult:
    """Run the intake gate with the configured limits; raises IntakeError."""
    return inspect_image(
        data,
        max_bytes=settings.LFR_MAX_UPLOAD_BYTES,
        max_pixels=settings.LFR_MAX_IMAGE_PIXELS,
        min_face_px=settings.LFR_MIN_FACE_PX,
    )


def image_check(*, by, data: bytes) -> IntakeResult:
    """The submit form's live check: the intake verdict, nothing stored, nothing logged."""
    access.require(by, "watchlist", "submit")
    return image_inspect(data)


def near_matches_show(
    *, by, matches: list[selectors.NearMatch], context: str, obj=None
) -> list[selectors.NearMatch]:
    """Hand other subjects' near matches to a reader: a read of watchlist intelligence.

    Only users who may read watchlists see them, and each showing is audited with the
    references shown (never an encoding). Nothing shown, nothing read, nothing audited.
    """
    if not matches or not access.can(by, "watchlist", "view"):
        return []
    audit_record(
        actor=by,
        action="watchlist.near_match_view",
        obj=obj,
        object_type="" if obj is not None else "watchlists.subject",
        details={"context": context, "matches": [m.as_dict() for m in matches]},
    )
    return matches


def image_check_near(
    *, by, result: IntakeResult, subject_reference: str = ""
) -> list[selectors.NearMatch]:
    """The live check's duplicate warning: held images of other subjects near this face."""
    access.require(by, "watchlist", "submit")
    matches = selectors.near_matches(
        [encoding_bytes(result)], exclude_subject_reference=(subject_reference or "").strip()
    )
    return near_matches_show(by=by, matches=matches, context="check")


def entry_near_matches(*, entry: WatchlistEntry, by, context: str = "entry"):
    """Near matches of an entry under other subjects, for a page or API reader (audited)."""
    return entries_near_matches(entries=[entry], by=by, context=context)[entry.pk]


def entries_near_matches(*, entries: list[WatchlistEntry], by, context: str) -> dict:
    """The same for a page of entries, read in one pass; one audit event per entry shown."""
    if not access.can(by, "watchlist", "view"):
        return {e.pk: [] for e in entries}
    found = selectors.entries_near_matches(entries)
    return {
        e.pk: near_matches_show(by=by, matches=found[e.pk], context=context, obj=e) for e in entries
    }


def encoding_bytes(result: IntakeResult) -> bytes:
    return np.asarray(result.encoding, dtype=np.float32).tobytes()


def duplicate_of(
    result: IntakeResult, known: list[tuple[int | None, bytes, str]]
) -> int | None | bool:
    """The id (or True when unsaved) of a known image showing the same face, else False."""
    mine = np.asarray(result.encoding, dtype=np.float32)
    for image_id, enc, sha in known:
        if sha == result.pixel_sha256:
            return image_id or True
        theirs = np.frombuffer(enc, dtype=np.float32)
        if float(np.linalg.norm(mine - theirs)) < DUPLICATE_DISTANCE:
            return image_id or True
    return False


@dataclass(frozen=True)
class NewPhotoApart:
    """A photo being added that lies apart from the subject's other photos."""

    index: int  # among the photos being added
    other: str  # what it was compared with, for a person: "photo 1", "held image #12"
    other_index: int | None  # the other photo's index when it is being added too
    distance: float

    def describe(self) -> str:
        return (
            f"different people? photo {self.index + 1} is {self.distance:.2f} from "
            f"{self.other}; photos of one person lie within "
            f"{selectors.SAME_PERSON_DISTANCE}"
        )


def new_photos_apart(*, subject: Subject | None, images: list[IntakeResult]) -> list:
    """The photos in `images` that stand apart from the subject's other photos (held,
    pending or approved, and each other): one person per subject."""
    held = selectors.subject_person_photos(subject.pk) if subject is not None else []
    encodings = [np.frombuffer(enc, dtype=np.float32) for _, _, enc in held]
    encodings += [np.asarray(r.encoding, dtype=np.float32) for r in images]
    out = []
    for a in photos_apart(encodings, selectors.SAME_PERSON_DISTANCE, held=len(held)):
        if a.index < len(held):
            continue
        other_index = a.nearest - len(held) if a.nearest >= len(held) else None
        other = (
            f"photo {other_index + 1}"
            if other_index is not None
            else f"held image #{held[a.nearest][0]} (entry {held[a.nearest][1]})"
        )
        out.append(NewPhotoApart(a.index - len(held), other, other_index, a.distance))
    return out


@dataclass
class SubjectInput:
    """Who an entry is about: a new subject is created from these, an existing one reused."""

    reference: str
    display_name: str = ""
    date_of_birth: date | None = None


def _clean_text(value: str, field: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: "This field is required."}, code="required")
    return value


def _subject_for(*, subject: SubjectInput, by) -> Subject:
    reference = _clean_text(subject.reference, "subject_reference")
    existing = Subject.objects.select_for_update().filter(reference=reference).first()
    if existing is not None:
        given = " ".join((subject.display_name or "").split())
        if given and given.casefold() != " ".join(existing.display_name.split()).casefold():
            # Never ignored silently: a typo here would file a face under the wrong person.
            raise ValidationError(
                {
                    "display_name": f"Subject {reference} is already held as "
                    f"\u201c{existing.display_name}\u201d. Leave the name blank (or enter it as "
                    "held) to add this entry to that subject, or use another reference."
                }
            )
        return existing
    name = _clean_text(subject.display_name, "display_name")
    if subject.date_of_birth and subject.date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": "The date of birth is in the future."})
    try:
        with transaction.atomic():  # savepoint: a concurrent creator may win the reference
            created = Subject.objects.create(
                reference=reference,
                display_name=name,
                date_of_birth=subject.date_of_birth,
                created_by=by,
            )
    except IntegrityError:
        return Subject.objects.select_for_update().get(reference=reference)
    audit_record(actor=by, action="watchlist.subject_create", obj=created)
    return created


def entry_submit(
    *,
    by,
    subject: SubjectInput,
    category: str,
    legal_basis: str,
    case_reference: str,
    provenance: str,
    images: list[IntakeResult],
    expires_at: datetime | None = None,
    review_due: date | None = None,
    taken_on: date | None = None,
    is_test_subject: bool = False,
    other_person_reason: str = "",
) -> WatchlistEntry:
    """Create a pending entry with already-inspected images; refuse duplicates of the subject.

    A photo farther than the same-person bound from the subject's other photos is
    refused unless `other_person_reason` says why it is the same person; the reason is
    kept on the entry and shown to the manager beside both photos.

    Images are inspected by the caller first (slow, outside the transaction); everything
    here is one transaction, so a refusal leaves nothing half-saved. `taken_on` is when
    the images were taken (for several, the oldest's date); None records "unknown".
    """
    # Permission first, outside the transaction: a denial's audit event must survive the
    # rollback its exception causes.
    access.require(by, "watchlist", "submit")
    with transaction.atomic():
        return _entry_create(
            by=by,
            subject=subject,
            category=category,
            legal_basis=legal_basis,
            case_reference=case_reference,
            provenance=provenance,
            images=images,
            expires_at=expires_at,
            review_due=review_due,
            taken_on=taken_on,
            is_test_subject=is_test_subject,
            other_person_reason=(other_person_reason or "").strip(),
        )


def entry_submit_upload(*, by, upload, fields: dict) -> WatchlistEntry:
    """The pages' and API's submission: the uploaded image (and `more_images`, further
    photos of the same person, each through the same gate) plus the validated fields."""
    access.require(by, "watchlist", "submit")
    results = [image_inspect(upload_bytes(upload))]
    for n, extra in enumerate(fields.get("more_images") or [], start=2):
        try:
            results.append(image_inspect(upload_bytes(extra)))
        except IntakeError as exc:
            name = getattr(extra, "name", "") or f"photo {n}"
            raise IntakeError(exc.rule, f"{name}: {exc.message}") from exc
    return entry_submit(
        by=by,
        subject=SubjectInput(
            reference=fields["subject_reference"],
            display_name=fields.get("display_name") or "",
            date_of_birth=fields.get("date_of_birth"),
        ),
        category=fields["category"],
        legal_basis=fields["legal_basis"],
        case_reference=fields["case_reference"],
        provenance=fields["provenance"],
        images=results,
        expires_at=fields.get("expires_at"),
        review_due=fields.get("review_due"),
        taken_on=fields.get("taken_on"),
        is_test_subject=bool(fields.get("is_test_subject")),
        other_person_reason=fields.get("other_person_reason") or "",
    )


def _entry_create(
    *,
    by,
    subject: SubjectInput,
    category: str,
    legal_basis: str,
    case_reference: str,
    provenance: str,
    images: list[IntakeResult],
    expires_at: datetime | None,
    review_due: date | None,
    taken_on: date | None = None,
    is_test_subject: bool = False,
    other_person_reason: str = "",
) -> WatchlistEntry:
    if category not in Category.values:
        raise ValidationError(
            {"category": f"Choose one of: {', '.join(Category.values)} (there is no catch-all)."}
        )
    legal_basis = _clean_text(legal_basis, "legal_basis")
    case_reference = _clean_text(case_reference, "case_reference")
    provenance = _clean_text(provenance, "provenance")
    if not images:
        raise ValidationError({"image": "At least one reference image is required."})
    now = timezone.now()
    # Every entry has a review date and an expiry: the settings' defaults when none given.
    if expires_at is None:
        expires_at = now + timedelta(days=settings.LFR_ENTRY_EXPIRY_DAYS)
    if review_due is None:
        review_due = min(
            timezone.localdate(now) + timedelta(days=settings.LFR_ENTRY_REVIEW_DAYS),
            timezone.localdate(expires_at),
        )
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if review_due < timezone.localdate(now):
        raise ValidationError({"review_due": "The review date must not be in the past."})
    if review_due > timezone.localdate(expires_at):
        raise ValidationError({"review_due": "The review date must come before the expiry."})
    if taken_on is not None and taken_on > timezone.localdate(now):
        raise ValidationError({"taken_on": "The date the image was taken is in the future."})
    subj = _subject_for(subject=subject, by=by)
    if taken_on is not None and subj.date_of_birth and taken_on < subj.date_of_birth:
        raise ValidationError({"taken_on": "The image was taken before the subject was born."})
    known = selectors.subject_encodings(subj)
    for result in images:
        if duplicate_of(result, known):
            raise IntakeError(
                "duplicate", f"This face is already held for subject {subj.reference}."
            )
        known.append((None, encoding_bytes(result), result.pixel_sha256))
    apart = new_photos_apart(subject=subj, images=images)
    if apart and not other_person_reason:
        raise ValidationError(
            {
                "other_person_reason": "; ".join(a.describe() for a in apart)
                + ". It may show someone else: leave it out, or say why it is the same person."
            },
            code="other_person",
        )
    entry = WatchlistEntry.objects.create(
        subject=subj,
        category=category,
        legal_basis=legal_basis,
        case_reference=case_reference,
        provenance=provenance,
        is_test_subject=is_test_subject,
        other_person_reason=other_person_reason if apart else "",
        submitted_by=by,
        expires_at=expires_at,
        review_due=review_due,
    )
    for result in images:
        ReferenceImage.objects.create(
            entry=entry,
            jpeg=result.jpeg,
            encoding=encoding_bytes(result),
            pixel_sha256=result.pixel_sha256,
            width=result.width,
            height=result.height,
            face_px=result.face_px,
            sharpness=result.sharpness,
            pose_score=result.pose_score,
            taken_on=taken_on,
        )
    near = selectors.entry_near_matches(entry)
    audit_record(
        actor=by,
        action="watchlist.entry_submit",
        obj=entry,
        details={
            "subject": subj.reference,
            "category": category,
            "images": len(images),
            "taken_on": taken_on.isoformat() if taken_on else "unknown",
            **({"test_subject": True} if is_test_subject else {}),
            "under_18": subj.is_under_18,
            "near_matches": [m.as_dict() for m in near],
            **(
                {
                    "photos_apart": [a.describe() for a in apart],
                    "other_person_reason": other_person_reason,
                }
                if apart
                else {}
            ),
        },
    )
    return entry


def _locked(entry_id: int) -> WatchlistEntry:
    entry = WatchlistEntry.objects.select_for_update().filter(pk=entry_id).first()
    if entry is None:
        raise Http404("No such watchlist entry.")
    return entry


def _permit(entry_id: int, by, action: str) -> None:
    """Check permission before the transaction, so a denial's audit event is kept.

    What the rule reads (the submitter) never changes, so checking the unlocked row is
    as good as checking the locked one.
    """
    entry = WatchlistEntry.objects.filter(pk=entry_id).first()
    access.require(by, "watchlist", action, entry)
    if entry is None:
        raise Http404("No such watchlist entry.")


def _transition(entry: WatchlistEntry, *, allowed_from: set[str], to: str, **fields) -> None:
    """Move the state with a conditional update, so two racing actions change it once.

    select_for_update already serialises PostgreSQL; the state filter on the UPDATE makes
    the same guarantee on SQLite (where select_for_update is a no-op) and is cheap.
    """
    if entry.state not in allowed_from:
        raise TransitionError(
            f"This entry is {entry.get_state_display().lower()}; it can no longer be changed "
            "this way.",
            code="state",
        )
    won = WatchlistEntry.objects.filter(pk=entry.pk, state=entry.state).update(state=to, **fields)
    if won != 1:
        raise TransitionError("Someone else changed this entry first.", code="state")
    entry.refresh_from_db()


def entry_decide(
    *,
    entry_id: int,
    by,
    approve: bool,
    reason: str,
    duplicate_reason: str = "",
    other_person_reason: str = "",
) -> WatchlistEntry:
    """Approve or reject a pending entry: a manager who is not its submitter, with a reason.

    Approving a face already held under another subject also needs `duplicate_reason`;
    approving an entry with a photo that stands apart from the subject's others needs a
    reason recorded at submission, or `other_person_reason` now.
    """
    action = "approve" if approve else "reject"
    _permit(entry_id, by, action)
    reason = _clean_text(reason, "reason")
    try:
        with transaction.atomic():
            return _entry_decide_locked(
                entry_id=entry_id,
                by=by,
                approve=approve,
                reason=reason,
                duplicate_reason=(duplicate_reason or "").strip(),
                other_person_reason=(other_person_reason or "").strip(),
            )
    except DuplicateError as exc:
        # The refusal names the other subjects: a read of them, audited after the rollback.
        entry = WatchlistEntry.objects.filter(pk=entry_id).first()
        near_matches_show(by=by, matches=exc.matches, context="approval_refused", obj=entry)
        raise


def _entry_decide_locked(
    *, entry_id: int, by, approve: bool, reason: str, duplicate_reason: str, other_person_reason
) -> WatchlistEntry:
    entry = _locked(entry_id)
    action = "approve" if approve else "reject"
    now = timezone.now()
    if approve and entry.expires_at is not None and entry.expires_at <= now:
        raise TransitionError("This entry's expiry date has passed; it cannot be approved.")
    # Recomputed under the lock: what counts is what is held now, not at submission.
    near = selectors.entry_near_matches(entry) if approve else []
    if near and not duplicate_reason:
        raise DuplicateError(near)
    apart = selectors.entries_photos_apart([entry])[entry.pk] if approve else []
    other_person_reason = entry.other_person_reason or other_person_reason
    if apart and not other_person_reason:
        pairs = ", ".join(
            f"#{p.image_id} and #{p.other_image_id} ({p.distance:.2f})" for p in apart
        )
        raise ValidationError(
            {
                "other_person_reason": f"Images {pairs} lie farther apart than the same-person "
                f"bound {selectors.SAME_PERSON_DISTANCE}: approving needs a reason why they "
                "show one person."
            },
            code="other_person",
        )
    _transition(
        entry,
        allowed_from={State.PENDING},
        to=State.APPROVED if approve else State.REJECTED,
        decided_by=by,
        decided_at=now,
        decision_reason=f"{reason}\nduplicate: {duplicate_reason}" if near else reason,
        **({"other_person_reason": other_person_reason} if apart else {}),
    )
    audit_record(
        actor=by,
        action=f"watchlist.entry_{action}",
        obj=entry,
        details={
            "reason": reason,
            "submitted_by": entry.submitted_by.get_username(),
            **(
                {"duplicate_reason": duplicate_reason, "near_matches": [m.as_dict() for m in near]}
                if near
                else {}
            ),
            **({"other_person_reason": other_person_reason} if apart else {}),
        },
    )
    notify(
        users=[entry.submitted_by_id],
        kind=f"watchlist.entry_{action}",
        text=(
            f"Your entry {entry.subject.reference} was "
            f"{'approved' if approve else 'rejected'} by {by.get_username()}."
        ),
        url=reverse("watchlists:entry", args=[entry.pk]),
    )
    return entry


def entry_end(*, entry_id: int, by, withdraw: bool, reason: str) -> WatchlistEntry:
    """Withdraw (pending or approved) or expire (approved) an entry early, with a reason."""
    action = "withdraw" if withdraw else "expire"
    _permit(entry_id, by, action)
    reason = _clean_text(reason, "reason")
    with transaction.atomic():
        return _end(entry_id=entry_id, by=by, withdraw=withdraw, reason=reason)


def _end(*, entry_id: int, by, withdraw: bool, reason: str) -> WatchlistEntry:
    entry = _locked(entry_id)
    action = "withdraw" if withdraw else "expire"
    _transition(
        entry,
        allowed_from={State.PENDING, State.APPROVED} if withdraw else {State.APPROVED},
        to=State.WITHDRAWN if withdraw else State.EXPIRED,
        ended_at=timezone.now(),
        decision_reason=(entry.decision_reason + "\n" if entry.decision_reason else "")
        + f"{action}: {reason}",
    )
    audit_record(
        actor=by, action=f"watchlist.entry_{action}", obj=entry, details={"reason": reason}
    )
    return entry


@transaction.atomic
def entry_retention(*, now: datetime | None = None) -> dict:
    """Expire entries past expires_at; purge images and encodings of ended entries.

    Ended = expired, withdrawn or rejected, for LFR_ENTRY_PURGE_DAYS (0, the default, = at
    the next run: expired watchlist entries go at once). The run leaves one deletion
    receipt with counts and ids, no content. A run with nothing to do leaves no receipt: beat runs
    this every 5 minutes and 288 empty receipts a day would bury the real ones; the
    receipts that exist are exactly the changes.
    """
    now = now or timezone.now()
    due = list(
        WatchlistEntry.objects.select_for_update()
        .filter(state__in=[State.PENDING, State.APPROVED], expires_at__lte=now)
        .values_list("pk", flat=True)
    )
    expired = []
    for pk in due:
        won = WatchlistEntry.objects.filter(
            pk=pk, state__in=[State.PENDING, State.APPROVED], expires_at__lte=now
        ).update(state=State.EXPIRED, ended_at=now)
        if won:
            expired.append(pk)
    cutoff = now - timedelta(days=settings.LFR_ENTRY_PURGE_DAYS)
    ended = WatchlistEntry.objects.select_for_update().filter(purged_at__isnull=True)
    purge_ids = sorted(
        set(
            ended.filter(
                state__in=[State.EXPIRED, State.WITHDRAWN], ended_at__lte=cutoff
            ).values_list("pk", flat=True)
        )
        | set(
            ended.filter(state=State.REJECTED, decided_at__lte=cutoff).values_list("pk", flat=True)
        )
    )
    images = 0
    if purge_ids:
        images = ReferenceImage.objects.filter(entry_id__in=purge_ids).update(
            jpeg=None, encoding=None
        )
        WatchlistEntry.objects.filter(pk__in=purge_ids).update(purged_at=now)
    if expired or purge_ids:
        audit_record(
            action="retention.watchlist_entries",
            object_type="watchlists.watchlistentry",
            details={
                "expired": len(expired),
                "expired_ids": expired,
                "purged": len(purge_ids),
                "purged_ids": purge_ids,
                "images_purged": images,
                "purge_days": settings.LFR_ENTRY_PURGE_DAYS,
                "kept": "entry rows and decisions; image quality figures",
            },
        )
    return {"expired": expired, "purged": purge_ids, "images_purged": images}


def image_consult(*, image_id: int, by, purpose: str) -> ReferenceImage:
    """Hand out one reference image for a stated purpose; the view is audited."""
    image = ReferenceImage.objects.select_related("entry", "entry__subject").filter(pk=image_id)
    image = image.first()
    access.require(by, "watchlist", "view", image.entry if image else None)
    if image is None or image.jpeg is None:
        raise Http404("No such image (or it has been purged).")
    # One read per image, user and purpose a day: a page reloaded (a queue after each
    # decision) shows the same image again for the same reason; it is not a new read.
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    if AuditEvent.objects.filter(
        action="watchlist.image_view",
        actor_id=by.pk,
        object_type=image._meta.label_lower,
        object_id=str(image.pk),
        purpose=purpose,
        at__gte=today,
    ).exists():
        return image
    audit_record(
        actor=by,
        action="watchlist.image_view",
        obj=image,
        purpose=purpose,
        details={"entry": image.entry_id, "subject": image.entry.subject.reference},
    )
    return image


def subject_consult(*, subject_id: int, by, purpose: str) -> Subject:
    """The subject history page is a consultation of intelligence records: it needs a
    stated purpose, and is audited with it."""
    access.require(by, "watchlist", "view")
    subject = Subject.objects.filter(pk=subject_id).first()
    if subject is None:
        raise Http404("No such subject.")
    audit_record(actor=by, action="watchlist.subject_view", obj=subject, purpose=purpose)
    return subject


def upload_bytes(upload) -> bytes:
    """Read an uploaded file, but never more than one byte past the limit."""
    if upload is None:
        raise ValidationError({"image": "Choose an image file."}, code="required")
    data = upload.read(settings.LFR_MAX_UPLOAD_BYTES + 1)
    if len(data) > settings.LFR_MAX_UPLOAD_BYTES:
        raise IntakeError(
            "bytes",
            f"The file is larger than the limit of {settings.LFR_MAX_UPLOAD_BYTES:,} bytes.",
        )
    return data


def entry_consult(*, entry_id: int, by) -> WatchlistEntry:
    """An entry's detail (legal basis, case, provenance) is a consultation: audit it."""
    entry = selectors.entry_get(user=by, entry_id=entry_id)
    audit_record(actor=by, action="watchlist.entry_view", obj=entry)
    return entry


def image_check_verdict(*, by, upload, subject_reference: str = "") -> dict:
    """The intake verdict for the submit form's live check (its page and the API alike)."""
    try:
        r = image_check(by=by, data=upload_bytes(upload))
    except IntakeError as exc:
        return {"ok": False, "rule": exc.rule, "detail": exc.message}
    near = image_check_near(by=by, result=r, subject_reference=subject_reference)
    return {
        "ok": True,
        "rule": None,
        "detail": "The image passes every intake rule.",
        "width": r.width,
        "height": r.height,
        "face_box": list(r.face_box),
        "face_px": r.face_px,
        "sharpness": r.sharpness,
        "pose_score": r.pose_score,
        "near_matches": [
            {
                "subject_reference": m.subject_reference,
                "entry_id": m.entry_id,
                "entry_state": m.entry_state,
                "image_id": m.image_id,
                "distance": float(m.distance),
            }
            for m in near
        ],
    }


def entries_consult(
    *, by, purpose: str, context: str, filters: dict, entries: list, total: int
) -> None:
    """A list or search of entries (references, names, cases, legal bases) is a
    consultation of watchlist intelligence like one entry's detail: asked for with a
    purpose, audited once per request with what was asked and how much was shown."""
    access.require(by, "watchlist", "list")
    audit_record(
        actor=by,
        action="watchlist.entry_list",
        object_type="watchlists.watchlistentry",
        purpose=purpose,
        details={
            "context": context,
            "filters": {k: v for k, v in filters.items() if v not in ("", None)},
            "matched": total,
            "shown": [e.pk for e in entries],
        },
    )
