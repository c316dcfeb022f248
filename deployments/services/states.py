"""The lifecycle's states and the one way a deployment moves between them."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from deployments.models import Deployment
from deployments.services import notices

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
    notices.settle(deployment, frm=frm, to=to)
    return frm
