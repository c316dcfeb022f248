"""The activation gate and the lifecycle: going live, completing or stopping, an urgent
start that lapses, the beat task, and the frozen watchlist's retention."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import access
from core.services import audit_record
from deployments import selectors
from deployments import selectors_authority as authority
from deployments.models import Deployment, DeploymentWatchlist
from deployments.services import notices
from deployments.services.records import record_compute
from deployments.services.snapshot import _snapshot_discard, _snapshot_freeze, _snapshot_summary
from deployments.services.states import State, _transition

# An urgent start not authorised in time loses its alerts, which recognition owns: one of
# the two documented imports of recognition by this app (docs/ARCHITECTURE.md).
from recognition.services.retention import alerts_delete_of


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
    if deployment.urgent and deployment.started_at and not _fully_authorised(deployment):
        end = min(end, deployment.started_at + timedelta(hours=settings.LFR_URGENT_AUTHORISE_HOURS))
    return start, end


def _fully_authorised(deployment: Deployment) -> bool:
    """Authorised internally and, where required, granted by the independent authority:
    what an urgent start must have within LFR_URGENT_AUTHORISE_HOURS (Art. 5(3))."""
    return deployment.authorised_at is not None and authority.independent_granted(deployment)


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
    # Each kind of refusal is audited once, so a deployment missing several says so.
    by_kind = {
        "gate": activation_blockers(deployment, urgent_start=urgent_start),
        "assessment": authority.assessment_blockers(timezone.localdate(now)),
    }
    # An urgent start may go live before the independent decision (Art. 5(3): request it
    # within 24 h); the urgent clock then stops and purges it unless a grant comes in time.
    if not (urgent_start and deployment.urgent and settings.LFR_URGENT_MODE):
        by_kind["independent_authorisation"] = authority.independent_blockers(deployment)
    refused = False
    for kind, blockers in by_kind.items():
        if blockers:
            _refuse_activation(deployment, kind=kind, blockers=blockers)
            refused = True
    if refused:
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
    notices.tell_live(deployment)
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
    """An urgent start not authorised in time (internally, or by the independent
    authority where required): stop it and delete what it collected."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.state != State.LIVE or _fully_authorised(deployment):
        return
    hours = settings.LFR_URGENT_AUTHORISE_HOURS
    missing = "authorised" if deployment.authorised_at is None else "independently authorised"
    deployment_purge(
        deployment=deployment,
        now=now,
        action="deployment.urgent_lapsed",
        reason=f"urgent start not {missing} within {hours} h",
    )


def deployment_purge(
    *, deployment: Deployment, now: datetime, action: str, reason: str, by=None
) -> dict:
    """Stop a live deployment at once and delete all data and outputs of that use: its
    alerts (with their crops and decisions) and its frozen watchlist's encodings. The
    audit row `action` is the receipt (counts, never content). Callers hold the row lock."""
    frm = _transition(
        deployment,
        State.CANCELLED,
        now=now,
        ended_at=now,
        purged_at=now,
        end_reason=reason,
        ended_by=by,
    )
    alert_count = alerts_delete_of(deployment=deployment)
    wl = DeploymentWatchlist.objects.filter(deployment=deployment).first()
    rows = len(wl.entry_ids) if wl else 0
    DeploymentWatchlist.objects.filter(deployment=deployment).update(
        encodings=None, destroyed_at=now
    )
    receipt = {
        "from_state": frm,
        "to_state": deployment.state,
        "reason": reason,
        "alerts_deleted": alert_count,
        "watchlist_rows_destroyed": rows,
    }
    audit_record(actor=by, action=action, obj=deployment, details=receipt)
    return receipt


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
        overdue = Deployment.objects.filter(
            state=State.LIVE, urgent=True, started_at__lte=deadline
        ).filter(Q(authorised_at__isnull=True) | Q(independent_authorisation_required=True))
        for d in overdue:
            if not _fully_authorised(d):
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
