"""Blue-list testing: walk-throughs by test subjects (staff volunteers), recorded on a
deployment that opted in, so its record can publish a live true-positive rate."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from core import access
from core.services import audit_record
from deployments.models import Deployment, DeploymentRecord, DeploymentWatchlist, Walkthrough
from deployments.services.states import State

# A walk-through is one pass of a camera: a long window would count any later sighting
# of the volunteer as this walk's detection and flatter the rate.
WALK_MAX_MINUTES = 30


def _check_walk(*, deployment: Deployment, wl, entry_id: int, camera, started_at, ended_at) -> None:
    if not deployment.include_test_subjects:
        raise ValidationError(
            "This deployment does not include the blue-list test subjects: a walk-through "
            "here could never be detected. Plan the deployment with them (an edit)."
        )
    if wl is None or entry_id not in (wl.test_entry_ids or []):
        raise ValidationError("That test subject is not on this deployment's frozen watchlist.")
    if camera is not None and not deployment.cameras.filter(pk=camera.pk).exists():
        raise ValidationError("That camera is not one of this deployment's cameras.")
    if ended_at <= started_at:
        raise ValidationError("The walk-through must end after it starts.")
    if ended_at - started_at > timedelta(minutes=WALK_MAX_MINUTES):
        raise ValidationError(f"A walk-through window is at most {WALK_MAX_MINUTES} minutes.")
    live_from = deployment.started_at
    if live_from is None or started_at < live_from or ended_at > deployment.actual_end:
        raise ValidationError(
            "The walk-through must fall within the time the deployment was live "
            "(its cameras were not read outside it)."
        )


@transaction.atomic
def walkthrough_record(
    *,
    deployment: Deployment,
    by,
    entry_id: int,
    started_at: datetime,
    ended_at: datetime,
    camera=None,
    note: str = "",
    perceived_group: str = "",
) -> Walkthrough:
    """Record that test subject `entry_id` walked past `camera` (None: any of the
    deployment's cameras) between `started_at` and `ended_at`. Whether it was detected
    is read from the alerts (deployments.selectors.walkthroughs), never typed in."""
    access.require(by, "deployment", "walkthrough", deployment)
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.state not in (State.LIVE, State.COMPLETED):
        raise ValidationError("Walk-throughs are recorded once the deployment has gone live.")
    if DeploymentRecord.objects.filter(deployment=deployment, signed_off_at__isnull=False):
        raise ValidationError("The record is signed off; no walk-through can be added.")
    if perceived_group and perceived_group not in settings.LFR_EQUALITY_GROUPS:
        raise ValidationError(
            f"Perceived group must be one of: {', '.join(settings.LFR_EQUALITY_GROUPS)}."
        )
    wl = DeploymentWatchlist.objects.filter(deployment=deployment).first()
    _check_walk(
        deployment=deployment,
        wl=wl,
        entry_id=entry_id,
        camera=camera,
        started_at=started_at,
        ended_at=ended_at,
    )
    walk = Walkthrough.objects.create(
        deployment=deployment,
        entry_id=entry_id,
        subject_reference=wl.subject_references[wl.entry_ids.index(entry_id)],
        camera=camera,
        started_at=started_at,
        ended_at=ended_at,
        note=(note or "").strip(),
        perceived_group=perceived_group,
        recorded_by=by,
    )
    audit_record(
        actor=by,
        action="deployment.walkthrough_recorded",
        obj=deployment,
        details={
            "walkthrough": walk.pk,
            "entry_id": entry_id,
            "camera": camera.pk if camera else None,
            "started_at": started_at.isoformat(),
            "ended_at": ended_at.isoformat(),
            "perceived_group": perceived_group,
        },
    )
    return walk
