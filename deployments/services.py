"""Writes for deployments: planning, authorisation, the activation gate, the frozen
watchlist, the lifecycle and the published record.

Every rule is refused with a ValidationError whose message says what to change. State
changes are claimed with a conditional UPDATE checked by row count, so two people (or
the beat task and a person) acting at once cannot both win.
"""

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import access
from core.services import audit_record
from deployments import selectors
from deployments.models import (
    Camera,
    Deployment,
    DeploymentRecord,
    DeploymentWatchlist,
    Site,
    UseCase,
)
from recognition.engine.sources import SourceError, check_source, redact

# An urgent start not authorised in time loses its alerts, which recognition owns: one of
# the two documented imports of recognition by this app (README, "Architecture").
from recognition.services.retention import alerts_delete_of
from watchlists.models import Category

State = Deployment.State

# The lifecycle: draft → submitted → authorised | refused → live →
# completed | cancelled. Anything not listed here is refused.
TRANSITIONS = {
    State.DRAFT: {State.SUBMITTED, State.CANCELLED},
    # submitted → live only for an urgent start (LFR_URGENT_MODE).
    State.SUBMITTED: {State.AUTHORISED, State.REFUSED, State.CANCELLED, State.LIVE},
    # authorised → submitted: an edit sends it back for authorisation.
    State.AUTHORISED: {State.LIVE, State.SUBMITTED, State.CANCELLED},
    State.REFUSED: set(),
    # live → cancelled only when an urgent start lapses without authorisation.
    State.LIVE: {State.COMPLETED, State.CANCELLED},
    State.COMPLETED: set(),
    State.CANCELLED: set(),
}
EDITABLE = (State.DRAFT, State.SUBMITTED, State.AUTHORISED)
# The plan's fields, in the order a planner fills them in: first what it is for and where
# (the site decides which cameras can be chosen), then the terms of the deployment.
PLAN_PURPOSE_AND_SITE = ("use_case", "site")
PLAN_TERMS = (
    "starts_at",
    "ends_at",
    "necessity",
    "proportionality",
    "location_rationale",
    "watchlist_categories",
    "max_watchlist_size",
    "include_minors",
    "minors_reason",
    "threshold",
    "dpia_reference",
    "policy_reference",
    "equality_reference",
    "public_notice",
    "no_notice_reason",
    "urgent",
)
PLAN_FIELDS = (*PLAN_PURPOSE_AND_SITE, *PLAN_TERMS)


# --- sites and cameras -----------------------------------------------------------------


def camera_validate_stream_url(url: str) -> str:
    """The URL as given, if the engine's one source rule (`check_source`) accepts it."""
    url = (url or "").strip()
    try:
        check_source(url, file_root=Path(settings.LFR_CAMERA_FILE_ROOT))
    except SourceError as exc:
        raise ValidationError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    return url


@transaction.atomic
def site_create(*, by, name: str, address: str = "", latitude=None, longitude=None) -> Site:
    name = (name or "").strip()
    if not name:
        raise ValidationError("A site needs a name.")
    if Site.objects.filter(name__iexact=name).exists():
        raise ValidationError(f"A site called {name!r} exists already.")
    site = Site.objects.create(name=name, address=address, latitude=latitude, longitude=longitude)
    audit_record(actor=by, action="site.create", obj=site, details={"name": name})
    return site


@transaction.atomic
def camera_create(
    *, by, name: str, stream_url: str, site: Site, enabled: bool = True, loop: bool = False
) -> Camera:
    name = (name or "").strip()
    if not name:
        raise ValidationError("A camera needs a name.")
    if Camera.objects.filter(name__iexact=name).exists():
        raise ValidationError(f"A camera called {name!r} exists already.")
    stream_url = camera_validate_stream_url(stream_url)
    camera = Camera.objects.create(
        name=name, stream_url=stream_url, site=site, enabled=enabled, loop=loop
    )
    audit_record(
        actor=by,
        action="camera.create",
        obj=camera,
        details={"name": name, "site_id": site.pk, "enabled": enabled},
    )
    return camera


@transaction.atomic
def camera_update(
    *, camera: Camera, by, name: str, stream_url: str, site: Site, enabled: bool, loop: bool
) -> Camera:
    name = (name or "").strip()
    if not name:
        raise ValidationError("A camera needs a name.")
    if Camera.objects.filter(name__iexact=name).exclude(pk=camera.pk).exists():
        raise ValidationError(f"A camera called {name!r} exists already.")
    stream_url = camera_validate_stream_url(stream_url)
    camera = Camera.objects.select_for_update().get(pk=camera.pk)
    old_url, old_site_id = camera.stream_url, camera.site_id
    moved = stream_url != old_url or site.pk != old_site_id
    reauthorise = _camera_moved(camera=camera, by=by) if moved else []
    camera.stream_url = stream_url
    camera.name, camera.site, camera.enabled, camera.loop = name, site, enabled, loop
    camera.save()
    details = {"name": name, "site_id": site.pk, "enabled": enabled}
    if moved:
        details.update(
            old_site_id=old_site_id,
            old_stream_url=redact(old_url),
            new_stream_url=redact(stream_url),
            reauthorise=reauthorise,
        )
    audit_record(actor=by, action="camera.update", obj=camera, details=details)
    return camera


def _camera_moved(*, camera: Camera, by) -> list[str]:
    """A camera now looks somewhere else: what was authorised is no longer what would run.
    Refused while one of its deployments is live; an authorised one goes back to
    `submitted` (losing its frozen watchlist), and a submitted one is touched so an
    authoriser's open screen is out of date. Returns the references sent back."""
    deployments = Deployment.objects.select_for_update().filter(
        cameras=camera, state__in=(State.SUBMITTED, State.AUTHORISED, State.LIVE)
    )
    live = [d.reference for d in deployments if d.state == State.LIVE]
    if live:
        raise ValidationError(
            f"Camera {camera.name!r} is in live deployment {', '.join(live)}: stop it before "
            "changing the camera's stream or site."
        )
    sent_back = []
    now = timezone.now()
    for d in deployments:
        if d.state == State.AUTHORISED:
            _transition(d, State.SUBMITTED, now=now, authorised_by=None, authorised_at=None)
            _snapshot_discard(deployment=d, by=by, why="camera changed after authorisation")
            audit_record(
                actor=by,
                action="deployment.update",
                obj=d,
                details={
                    "changed": ["camera"],
                    "camera_id": camera.pk,
                    "from_state": State.AUTHORISED,
                    "to_state": d.state,
                },
            )
            sent_back.append(d.reference)
        else:
            Deployment.objects.filter(pk=d.pk).update(updated_at=now)
    return sent_back


# --- planning rules --------------------------------------------------------------------


def _check_plan(*, plan: dict, cameras) -> None:
    """Rules that hold for any deployment at any stage; all failures reported at once."""
    errors = []
    starts_at, ends_at = plan.get("starts_at"), plan.get("ends_at")
    if plan.get("use_case") not in UseCase.values:
        errors.append(f"The use case must be one of: {', '.join(UseCase.values)}.")
    if not (starts_at and ends_at):
        errors.append("A deployment needs a fixed start and end.")
    elif starts_at >= ends_at:
        errors.append("The start must be before the end.")
    elif ends_at - starts_at > timedelta(hours=settings.LFR_MAX_DEPLOYMENT_HOURS):
        errors.append(
            f"A deployment may last at most {settings.LFR_MAX_DEPLOYMENT_HOURS} hours; "
            f"this one lasts {(ends_at - starts_at).total_seconds() / 3600:.1f}."
        )
    categories = plan.get("watchlist_categories") or []
    bad = [c for c in categories if c not in Category.values]
    if not categories:
        errors.append("Choose at least one watchlist category.")
    if bad:
        errors.append(f"Unknown watchlist categories: {', '.join(map(str, bad))}.")
    if len(set(categories)) != len(categories):
        errors.append("A watchlist category is listed twice.")
    if not plan.get("max_watchlist_size") or plan["max_watchlist_size"] < 1:
        errors.append("The maximum watchlist size must be at least 1.")
    threshold = plan.get("threshold")
    if threshold is None or threshold <= 0:
        errors.append("The match threshold must be a face distance above 0.")
    elif threshold > settings.LFR_THRESHOLD_MAX:
        errors.append(
            f"The match threshold {threshold} is looser than the permitted maximum "
            f"distance {settings.LFR_THRESHOLD_MAX} (lower is stricter): choose "
            f"{settings.LFR_THRESHOLD_MAX} or less."
        )
    for field, label in (
        ("necessity", "necessity"),
        ("proportionality", "proportionality"),
        ("location_rationale", "why this location"),
    ):
        if not (plan.get(field) or "").strip():
            errors.append(f"State the {label}.")
    if plan.get("include_minors") and not (plan.get("minors_reason") or "").strip():
        errors.append("Including under-18s needs a recorded reason.")
    if not plan.get("public_notice") and not (plan.get("no_notice_reason") or "").strip():
        errors.append("Deploying without advance public notice needs a recorded reason.")
    if plan.get("urgent") and not settings.LFR_URGENT_MODE:
        errors.append("Urgent starts are not enabled here (LFR_URGENT_MODE).")
    site = plan.get("site")
    cameras = list(cameras)
    if not cameras:
        errors.append("Choose at least one camera.")
    for camera in cameras:
        if site is not None and camera.site_id != site.pk:
            errors.append(f"Camera {camera.name} is not at {site.name}.")
        if not camera.enabled:
            errors.append(f"Camera {camera.name} is disabled.")
    if errors:
        raise ValidationError(errors)


def _check_commitments(*, deployment: Deployment, now: datetime) -> None:
    """Submission-time rules: end not past, no camera clash, weekly capacity.

    Locks the cameras and the week's deployments first so two submissions racing for the
    same camera or the last slot of a week are serialised (PostgreSQL; SQLite serialises
    writers anyway).
    """
    if deployment.ends_at <= now:
        raise ValidationError("This deployment's end is in the past: change its times.")
    camera_ids = sorted(deployment.cameras.values_list("pk", flat=True))
    list(Camera.objects.select_for_update().filter(pk__in=camera_ids).order_by("pk"))
    # A deployment that ended (stopped early) holds its cameras only until its actual end.
    clash = (
        selectors.camera_bookings(
            camera_ids=camera_ids,
            starts_at=deployment.starts_at,
            ends_at=deployment.ends_at,
            exclude=deployment.pk,
        )
        .order_by("starts_at")
        .first()
    )
    if clash is not None:
        names = ", ".join(sorted(c.name for c in clash.cameras.all() if c.pk in set(camera_ids)))
        raise ValidationError(
            f"Camera {names} is already in deployment {clash.reference} "
            f"({timezone.localtime(clash.starts_at):%Y-%m-%d %H:%M}–"
            f"{timezone.localtime(clash.actual_end):%H:%M}), which overlaps."
        )
    year, week, _ = timezone.localtime(deployment.starts_at).isocalendar()
    start, end = selectors.iso_week_bounds(year, week)
    list(
        Deployment.objects.select_for_update()
        .filter(starts_at__gte=start, starts_at__lt=end)
        .values_list("pk", flat=True)
    )
    used = selectors.week_capacity_used(year=year, week=week, exclude=deployment.pk)
    if used >= settings.LFR_WEEKLY_CAPACITY:
        raise ValidationError(
            f"ISO week {year}-W{week:02d} is full: {used} of "
            f"{settings.LFR_WEEKLY_CAPACITY} deployments are already planned."
        )


def _transition(deployment: Deployment, to: str, *, now: datetime | None = None, **fields):
    """Move one deployment from its current state to `to`, claiming the row atomically."""
    frm = deployment.state
    if to not in TRANSITIONS[frm]:
        raise ValidationError(
            f"A deployment cannot go from {State(frm).label.lower()} to {State(to).label.lower()}."
        )
    fields["updated_at"] = now or timezone.now()
    won = Deployment.objects.filter(pk=deployment.pk, state=frm).update(state=to, **fields)
    if won != 1:
        raise ValidationError(
            "This deployment was changed by someone else a moment ago: reload and retry."
        )
    deployment.refresh_from_db()
    return frm


def _next_reference(now: datetime) -> str:
    prefix = f"DEP-{now:%Y%m%d}-"
    count = Deployment.objects.filter(reference__startswith=prefix).count()
    while True:
        count += 1
        ref = f"{prefix}{count:03d}"
        if not Deployment.objects.filter(reference=ref).exists():
            return ref


def _plan_summary(d: Deployment) -> dict:
    return {
        "reference": d.reference,
        "use_case": d.use_case,
        "site_id": d.site_id,
        "camera_ids": sorted(d.cameras.values_list("pk", flat=True)),
        "starts_at": d.starts_at.isoformat(),
        "ends_at": d.ends_at.isoformat(),
        "watchlist_categories": d.watchlist_categories,
        "max_watchlist_size": d.max_watchlist_size,
        "include_minors": d.include_minors,
        "threshold": d.threshold,
        "public_notice": d.public_notice,
        "urgent": d.urgent,
    }


@transaction.atomic
def deployment_create(*, by, cameras, officers=(), **plan) -> Deployment:
    access.require(by, "deployment", "create")
    plan = {k: plan.get(k) for k in PLAN_FIELDS if k in plan}
    plan.setdefault("threshold", settings.LFR_THRESHOLD_DEFAULT)
    plan.setdefault("public_notice", True)
    _check_plan(plan=plan, cameras=cameras)
    now = timezone.now()
    deployment = Deployment.objects.create(
        reference=_next_reference(now), requested_by=by, state=State.DRAFT, **plan
    )
    deployment.cameras.set(cameras)
    deployment.officers.set(officers)
    audit_record(
        actor=by, action="deployment.create", obj=deployment, details=_plan_summary(deployment)
    )
    return deployment


@transaction.atomic
def deployment_update(*, deployment: Deployment, by, cameras, officers=None, **plan):
    """Edit the plan. An authorised deployment goes back to `submitted` and loses its
    authorisation and frozen watchlist: what was authorised is no longer what will run."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.state not in EDITABLE:
        raise ValidationError(
            f"A {State(deployment.state).label.lower()} deployment cannot be edited."
        )
    merged = {k: getattr(deployment, k) for k in PLAN_FIELDS}
    merged.update({k: v for k, v in plan.items() if k in PLAN_FIELDS})
    _check_plan(plan=merged, cameras=cameras)
    before = _plan_summary(deployment)
    for key, value in merged.items():
        setattr(deployment, key, value)
    deployment.save()
    deployment.cameras.set(cameras)
    if officers is not None:
        deployment.officers.set(officers)
    after = _plan_summary(deployment)
    changed = sorted(k for k in after if after[k] != before[k])
    was = deployment.state
    if was in (State.SUBMITTED, State.AUTHORISED):
        _check_commitments(deployment=deployment, now=timezone.now())
    if was == State.AUTHORISED:
        _transition(deployment, State.SUBMITTED, authorised_by=None, authorised_at=None)
        _snapshot_discard(deployment=deployment, by=by, why="edited after authorisation")
    audit_record(
        actor=by,
        action="deployment.update",
        obj=deployment,
        details={"changed": changed, "from_state": was, "to_state": deployment.state},
    )
    return deployment


@transaction.atomic
def deployment_submit(*, deployment: Deployment, by) -> Deployment:
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.state != State.DRAFT:
        raise ValidationError("Only a draft can be submitted for authorisation.")
    _check_plan(
        plan={k: getattr(deployment, k) for k in PLAN_FIELDS}, cameras=deployment.cameras.all()
    )
    now = timezone.now()
    _check_commitments(deployment=deployment, now=now)
    frm = _transition(deployment, State.SUBMITTED, now=now, submitted_at=now)
    audit_record(
        actor=by,
        action="deployment.submit",
        obj=deployment,
        details={"from_state": frm, "to_state": deployment.state},
    )
    return deployment


# --- authorisation and the frozen watchlist --------------------------------------------


def _snapshot_freeze(*, deployment: Deployment, now: datetime) -> DeploymentWatchlist:
    """Copy the approved entries' encodings now; later approvals never reach this copy."""
    rows = selectors.watchlist_candidates(deployment=deployment, at=now)
    counts = selectors.watchlist_counts(deployment=deployment, at=now)
    entries = {row.entry_id: row for row in rows}
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
    }


@transaction.atomic
def deployment_authorise(
    *, deployment: Deployment, by, reason: str = "", seen_updated_at: datetime | None = None
) -> Deployment:
    """Authorise and freeze the watchlist. Refused if the plan changed since the screen
    was shown (`seen_updated_at`) or the watchlist is larger than authorised."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    access.require(by, "deployment", "authorise", deployment)  # never the requester
    if seen_updated_at is not None and deployment.updated_at != seen_updated_at:
        raise ValidationError(
            "The deployment changed after you opened it: review it again before authorising."
        )
    now = timezone.now()
    if deployment.state == State.LIVE and deployment.urgent and deployment.authorised_at is None:
        # Retrospective authority for an urgent start: the watchlist frozen at start stays.
        Deployment.objects.filter(pk=deployment.pk).update(
            authorised_by=by, authorised_at=now, decision_reason=reason, updated_at=now
        )
        deployment.refresh_from_db()
        audit_record(
            actor=by,
            action="deployment.authorise",
            obj=deployment,
            details={"urgent": True, "state": deployment.state, "reason": reason},
        )
        return deployment
    if deployment.state != State.SUBMITTED:
        raise ValidationError("Only a submitted deployment can be authorised.")
    if deployment.ends_at <= now:
        raise ValidationError("This deployment's end has passed: it can no longer be authorised.")
    wl = _snapshot_freeze(deployment=deployment, now=now)
    frm = _transition(
        deployment,
        State.AUTHORISED,
        now=now,
        authorised_by=by,
        authorised_at=now,
        decision_reason=reason,
    )
    audit_record(
        actor=by,
        action="deployment.authorise",
        obj=deployment,
        details={
            "from_state": frm,
            "to_state": deployment.state,
            "reason": reason,
            "plan": _plan_summary(deployment),
            "watchlist": _snapshot_summary(wl),
        },
    )
    return deployment


@transaction.atomic
def deployment_refuse(*, deployment: Deployment, by, reason: str) -> Deployment:
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    access.require(by, "deployment", "refuse", deployment)  # never the requester
    if not (reason or "").strip():
        raise ValidationError("Say why the deployment is refused.")
    if deployment.state != State.SUBMITTED:
        raise ValidationError("Only a submitted deployment can be refused.")
    frm = _transition(deployment, State.REFUSED, decision_reason=reason)
    audit_record(
        actor=by,
        action="deployment.refuse",
        obj=deployment,
        details={"from_state": frm, "to_state": deployment.state, "reason": reason},
    )
    return deployment


@transaction.atomic
def deployment_cancel(*, deployment: Deployment, by, reason: str) -> Deployment:
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if not (reason or "").strip():
        raise ValidationError("Say why the deployment is cancelled.")
    if deployment.state == State.LIVE:
        raise ValidationError("A live deployment is stopped, not cancelled: use Stop.")
    frm = _transition(
        deployment, State.CANCELLED, ended_at=timezone.now(), end_reason=reason, ended_by=by
    )
    _snapshot_discard(deployment=deployment, by=by, why="cancelled")
    audit_record(
        actor=by,
        action="deployment.cancel",
        obj=deployment,
        details={"from_state": frm, "to_state": deployment.state, "reason": reason},
    )
    return deployment


# --- the activation gate and the lifecycle ---------------------------------------------


def activation_blockers(
    deployment: Deployment, *, urgent_start: bool = False, paperwork_only: bool = False
) -> list[str]:
    """Why this deployment may not go live now; empty when it may. Authorised in advance
    by someone other than the requester (College of Policing APP on LFR; Bridges v South
    Wales Police ¶¶121-130), with a current DPIA, appropriate policy document and equality
    impact assessment (DPA 2018 s.64; Bridges ¶¶173-181).
    `paperwork_only` leaves out the authorisation itself (for the authorisation screen)."""
    missing = []
    unauthorised = deployment.authorised_at is None or deployment.authorised_by_id is None
    if unauthorised and not paperwork_only:
        if not (urgent_start and deployment.urgent and settings.LFR_URGENT_MODE):
            missing.append("no authorisation")
    for field, label in (
        ("dpia_reference", "DPIA reference"),
        ("policy_reference", "appropriate policy document reference"),
        ("equality_reference", "equality impact assessment reference"),
    ):
        if not getattr(deployment, field).strip():
            missing.append(f"no {label}")
    return missing


def activation_window(deployment: Deployment) -> tuple[datetime, datetime]:
    """[start, end): the only time this deployment may be live and read a camera.

    Its authorised start and end; an urgent start still unauthorised also stops at the
    end of its LFR_URGENT_AUTHORISE_HOURS (the tick then lapses it and purges what it
    collected). A deployment that has ended is never in its window again.
    """
    start, end = deployment.starts_at, deployment.ends_at
    if deployment.ended_at is not None:
        end = min(end, deployment.ended_at)
    if deployment.urgent and deployment.authorised_at is None and deployment.started_at:
        end = min(end, deployment.started_at + timedelta(hours=settings.LFR_URGENT_AUTHORISE_HOURS))
    return start, end


def window_blocker(deployment: Deployment, now: datetime) -> str:
    """Why `now` is outside the deployment's window; "" inside it. The one timing rule:
    the activation gate and the stream slices both ask it."""
    start, end = activation_window(deployment)
    if now < start:
        return f"its authorised window starts at {timezone.localtime(start):%Y-%m-%d %H:%M}"
    if now >= end:
        return f"its authorised window ended at {timezone.localtime(end):%Y-%m-%d %H:%M}"
    return ""


def _refuse_activation(deployment: Deployment, *, kind: str, blockers: list[str]) -> None:
    # Beat retries every few seconds: one event per deployment and kind of refusal.
    if not selectors.activation_refusal_recorded(deployment, kind=kind):
        audit_record(
            action="deployment.activation_refused",
            obj=deployment,
            outcome="denied",
            details={"blockers": blockers, "kind": kind},
        )


@transaction.atomic
def deployment_go_live(*, deployment: Deployment, now: datetime | None = None) -> bool:
    """The activation gate, whoever calls it (tick, demo, admin, API). True if the
    deployment went live."""
    now = now or timezone.now()
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    urgent_start = deployment.state == State.SUBMITTED
    if deployment.state not in (State.AUTHORISED, State.SUBMITTED):
        return False
    early_or_late = window_blocker(deployment, now)
    if early_or_late:
        _refuse_activation(deployment, kind="window", blockers=[early_or_late])
        return False
    blockers = activation_blockers(deployment, urgent_start=urgent_start)
    if blockers:
        _refuse_activation(deployment, kind="gate", blockers=blockers)
        return False
    wl = None
    if urgent_start:
        wl = _snapshot_freeze(deployment=deployment, now=now)
    frm = _transition(deployment, State.LIVE, now=now, started_at=now)
    audit_record(
        action="deployment.live",
        obj=deployment,
        details={
            "from_state": frm,
            "to_state": deployment.state,
            "urgent_start": urgent_start,
            **({"watchlist": _snapshot_summary(wl)} if wl else {}),
        },
    )
    return True


@transaction.atomic
def deployment_complete(
    *, deployment: Deployment, by=None, reason: str = "scheduled end", now=None
) -> Deployment:
    """Live → completed (at its end, or stopped early by command staff) and compute the
    published record."""
    now = now or timezone.now()
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.state != State.LIVE:
        raise ValidationError("Only a live deployment can be stopped.")
    frm = _transition(
        deployment,
        State.COMPLETED,
        now=now,
        ended_at=max(deployment.started_at or now, min(now, deployment.ends_at)),
        end_reason=reason,
        ended_by=by,
    )
    record = record_compute(deployment=deployment)
    audit_record(
        actor=by,
        action="deployment.stop" if by else "deployment.complete",
        obj=deployment,
        details={
            "from_state": frm,
            "to_state": deployment.state,
            "reason": reason,
            "total_alerts": record.fields["Total Alerts"],
        },
    )
    return deployment


def deployment_stop(*, deployment: Deployment, by, reason: str) -> Deployment:
    if not (reason or "").strip():
        raise ValidationError("Say why the deployment is stopped early.")
    access.require(by, "deployment", "stop", deployment)
    return deployment_complete(deployment=deployment, by=by, reason=f"stopped early: {reason}")


@transaction.atomic
def _urgent_lapse(*, deployment: Deployment, now: datetime) -> None:
    """An urgent start not authorised in time: stop it and delete what it collected."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.state != State.LIVE or deployment.authorised_at is not None:
        return
    frm = _transition(
        deployment,
        State.CANCELLED,
        now=now,
        ended_at=now,
        purged_at=now,
        end_reason=(f"urgent start not authorised within {settings.LFR_URGENT_AUTHORISE_HOURS} h"),
    )
    alert_count = alerts_delete_of(deployment=deployment)
    wl = DeploymentWatchlist.objects.filter(deployment=deployment).first()
    rows = len(wl.entry_ids) if wl else 0
    DeploymentWatchlist.objects.filter(deployment=deployment).update(
        encodings=None, destroyed_at=now
    )
    audit_record(
        action="deployment.urgent_lapsed",
        obj=deployment,
        details={
            "from_state": frm,
            "to_state": deployment.state,
            "alerts_deleted": alert_count,
            "watchlist_rows_destroyed": rows,
        },
    )


def lifecycle_tick(*, now: datetime | None = None) -> dict:
    """Run by beat every few seconds: start, end, expire. Each deployment in its own
    transaction, so one failure does not hold up the others."""
    now = now or timezone.now()
    done = {"live": 0, "completed": 0, "cancelled": 0, "lapsed": 0}
    for d in Deployment.objects.filter(state=State.LIVE, ends_at__lte=now):
        try:
            deployment_complete(deployment=d, now=now)
        except ValidationError:
            continue  # stopped by someone (or another tick) a moment ago
        done["completed"] += 1
    if (
        settings.LFR_URGENT_MODE
        or Deployment.objects.filter(state=State.LIVE, urgent=True).exists()
    ):
        deadline = now - timedelta(hours=settings.LFR_URGENT_AUTHORISE_HOURS)
        for d in Deployment.objects.filter(
            state=State.LIVE, urgent=True, authorised_at__isnull=True, started_at__lte=deadline
        ):
            _urgent_lapse(deployment=d, now=now)
            done["lapsed"] += 1
    due = Deployment.objects.filter(starts_at__lte=now, ends_at__gt=now)
    starters = list(due.filter(state=State.AUTHORISED))
    if settings.LFR_URGENT_MODE:
        starters += list(due.filter(state=State.SUBMITTED, urgent=True))
    for d in starters:
        try:
            done["live"] += deployment_go_live(deployment=d, now=now)
        except ValidationError as exc:
            # e.g. an urgent watchlist larger than its maximum: it stays put, and says why.
            with transaction.atomic():
                _refuse_activation(d, kind="gate", blockers=exc.messages)
    for d in Deployment.objects.filter(
        state__in=(State.SUBMITTED, State.AUTHORISED), ends_at__lte=now
    ):
        with transaction.atomic():
            try:
                _transition(
                    d,
                    State.CANCELLED,
                    now=now,
                    ended_at=now,
                    end_reason="its end passed before it went live",
                )
            except ValidationError:
                continue
            _snapshot_discard(deployment=d, by=None, why="end passed before going live")
            audit_record(
                action="deployment.expire",
                obj=d,
                details={"to_state": d.state, "reason": d.end_reason},
            )
            done["cancelled"] += 1
    return done


def watchlist_retention(*, now: datetime | None = None) -> dict:
    """Destroy frozen encodings once the deployment ended + LFR_WATCHLIST_GRACE_HOURS ago.
    The entry id list stays (who was on the list is part of the record); faces do not.
    Like every retention job, a receipt only for a run that destroys something."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.LFR_WATCHLIST_GRACE_HOURS)
    destroyed, rows = [], 0
    candidates = DeploymentWatchlist.objects.filter(destroyed_at__isnull=True).select_related(
        "deployment"
    )
    with transaction.atomic():
        for wl in candidates:
            d = wl.deployment
            if d.state == State.LIVE:
                continue  # the tick completes it first; never pull a list from a live run
            if d.actual_end > cutoff:
                continue
            won = DeploymentWatchlist.objects.filter(pk=wl.pk, destroyed_at__isnull=True).update(
                encodings=None, destroyed_at=now
            )
            if won:
                destroyed.append(d.pk)
                rows += len(wl.entry_ids)
        if destroyed:
            audit_record(
                action="retention.deployment_watchlists",
                object_type="deployments.deploymentwatchlist",
                details={
                    "destroyed": len(destroyed),
                    "rows_destroyed": rows,
                    "deployment_ids": destroyed,
                    "grace_hours": settings.LFR_WATCHLIST_GRACE_HOURS,
                    "kept": "entry id lists",
                },
            )
    return {"destroyed": len(destroyed), "rows": rows, "deployment_ids": destroyed}


# --- the published record --------------------------------------------------------------


@transaction.atomic
def record_compute(*, deployment: Deployment) -> DeploymentRecord:
    """(Re)compute the published fields from the alerts and their latest adjudications.
    Frozen once oversight has signed the record off."""
    record = DeploymentRecord.objects.select_for_update().filter(deployment=deployment).first()
    if record is not None and record.signed_off_at is not None:
        return record
    fields = selectors.record_fields(deployment)
    undecided = fields["Total Alerts"] - selectors.decided(fields)
    if record is None:
        record = DeploymentRecord.objects.create(
            deployment=deployment,
            computed_at=timezone.now(),
            fields=fields,
            not_adjudicated=undecided,
        )
    else:
        record.fields, record.computed_at = fields, timezone.now()
        record.not_adjudicated = undecided
        record.save(update_fields=["fields", "computed_at", "not_adjudicated"])
    return record


@transaction.atomic
def record_review(*, deployment: Deployment, by, review: str) -> DeploymentRecord:
    access.require(by, "deployment", "review", deployment)
    if deployment.state != State.COMPLETED:
        raise ValidationError("A review is written once the deployment has completed.")
    if not (review or "").strip():
        raise ValidationError("The review cannot be empty.")
    record = record_compute(deployment=deployment)
    if record.signed_off_at is not None:
        raise ValidationError("The record is signed off; its review can no longer change.")
    record.review, record.reviewed_by, record.reviewed_at = review, by, timezone.now()
    record.save(update_fields=["review", "reviewed_by", "reviewed_at"])
    audit_record(
        actor=by,
        action="deployment.review",
        obj=deployment,
        details={"chars": len(review), "not_adjudicated": record.not_adjudicated},
    )
    return record


@transaction.atomic
def record_signoff(*, deployment: Deployment, by) -> DeploymentRecord:
    access.require(by, "deployment", "signoff", deployment)
    record = record_compute(deployment=deployment)
    if not record.review:
        raise ValidationError("Command staff must write the review before it is signed off.")
    won = DeploymentRecord.objects.filter(pk=record.pk, signed_off_at__isnull=True).update(
        signed_off_by=by, signed_off_at=timezone.now()
    )
    if not won:
        raise ValidationError("This record is already signed off.")
    record.refresh_from_db()
    audit_record(
        actor=by,
        action="deployment.signoff",
        obj=deployment,
        details={"fields": record.fields, "not_adjudicated": record.not_adjudicated},
    )
    return record
