"""Authorisation, refusal and cancellation."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import access
from core.services import audit_record
from deployments import selectors
from deployments.models import Deployment
from deployments.services import notices
from deployments.services.planning import _plan_summary
from deployments.services.snapshot import _snapshot_discard, _snapshot_freeze, _snapshot_summary
from deployments.services.states import State, _transition


@transaction.atomic
def deployment_authorise(
    *,
    deployment: Deployment,
    by,
    reason: str = "",
    seen_updated_at: datetime | None = None,
    threshold: float | None = None,
    policy_reason: str = "",
    short_notice_reason: str = "",
) -> Deployment:
    """Authorise and freeze the watchlist. Refused if the plan changed since the screen
    was shown (`seen_updated_at`) or the watchlist is larger than authorised.

    The authorising officer decides the threshold: `threshold` may make the planned one
    stricter (a lower distance), never looser; the change is in the audit row. When the
    force has a false-alert policy (LFR_MAX_FALSE_ALERT_RATE), a watchlist size no
    measured threshold can support is refused, and a threshold looser than the policy
    allows at that size needs `policy_reason`, recorded with the operating point.

    Authorised with advance public notice but less than the lead before the start, the
    notice the public gets is shorter than promised: the authorising officer records why
    (`short_notice_reason`), or refuses it so command moves the start.
    """
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    access.require(by, "deployment", "authorise", deployment)  # never the requester
    if seen_updated_at is not None and deployment.updated_at != seen_updated_at:
        raise ValidationError(
            "The deployment changed after you opened it: review it again before authorising."
        )
    planned = deployment.threshold
    if threshold is not None and threshold != planned:
        if not 0 < threshold < planned:
            raise ValidationError(
                f"The threshold may only be made stricter: a distance above 0 and below the "
                f"planned {planned:g} (lower is stricter)."
            )
        if deployment.state != State.SUBMITTED:
            raise ValidationError("The threshold cannot be changed once the deployment is live.")
    tightened = threshold is not None and threshold != planned
    now = timezone.now()
    retrospective = (
        deployment.state == State.LIVE and deployment.urgent and deployment.authorised_at is None
    )
    if not retrospective:
        if deployment.state != State.SUBMITTED:
            raise ValidationError("Only a submitted deployment can be authorised.")
        if deployment.ends_at <= now:
            raise ValidationError(
                "This deployment's end has passed: it can no longer be authorised."
            )
    # The policy holds for a retrospective authority too: an urgent start it cannot
    # support lapses at its deadline and is purged, as any unauthorised one.
    point = _operating_point_check(
        deployment, threshold if tightened else planned, policy_reason=policy_reason
    )
    if retrospective:
        # Retrospective authority for an urgent start: the watchlist frozen at start stays.
        Deployment.objects.filter(pk=deployment.pk).update(
            authorised_by=by, authorised_at=now, decision_reason=reason, updated_at=now
        )
        deployment.refresh_from_db()
        audit_record(
            actor=by,
            action="deployment.authorise",
            obj=deployment,
            details={
                "urgent": True,
                "state": deployment.state,
                "reason": reason,
                "operating_point": point,
            },
        )
        return deployment
    short = selectors.notice_shortfall(deployment, at=now)
    short_notice_reason = (short_notice_reason or "").strip()
    if short is not None and not short_notice_reason:
        raise ValidationError(
            f"It starts in {selectors.duration_words(short)}: less than the "
            f"{settings.LFR_PUBLIC_NOTICE_LEAD_DAYS}-day advance public notice. Record why no "
            "advance notice was given, or refuse it so command moves the start."
        )
    wl = _snapshot_freeze(deployment=deployment, now=now)
    frm = _transition(
        deployment,
        State.AUTHORISED,
        now=now,
        authorised_by=by,
        authorised_at=now,
        decision_reason=reason,
        **({"threshold": threshold} if tightened else {}),
        **({"no_notice_reason": short_notice_reason} if short is not None else {}),
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
            **({"threshold": {"planned": planned, "authorised": threshold}} if tightened else {}),
            "operating_point": point,
            **(
                {
                    "short_notice": {
                        "lead_days": settings.LFR_PUBLIC_NOTICE_LEAD_DAYS,
                        "notice_given": selectors.duration_words(short),
                        "reason": short_notice_reason,
                    }
                }
                if short is not None
                else {}
            ),
        },
    )
    notices.tell_decided(deployment, by=by, authorised=True)
    return deployment


def _operating_point_check(deployment: Deployment, threshold: float, *, policy_reason: str):
    """The force's false-alert policy at the authorised watchlist size (the gate)."""
    point = selectors.deployment_operating_point(deployment, threshold=threshold)
    if point["policy"] and not point["supported"]:
        raise ValidationError(
            f"The false-alert policy cannot support a watchlist of "
            f"{deployment.max_watchlist_size:,} entries: {point['words']}"
        )
    if point["policy"] and not point["within_policy"]:
        if not (policy_reason or "").strip():
            raise ValidationError(
                f"Threshold {threshold:g} is looser than the false-alert policy allows at "
                f"{deployment.max_watchlist_size:,} entries (up to "
                f"{point['policy_threshold']:g}): tighten it, or record why it must be "
                "looser."
            )
    recorded = ("threshold", "fpir_bound", "tpir", "policy", "policy_threshold", "run_id")
    return {
        **{k: point[k] for k in recorded},
        "source": point["source"],
        **({"policy_reason": policy_reason} if point["within_policy"] is False else {}),
    }


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
    notices.tell_decided(deployment, by=by, authorised=False)
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
