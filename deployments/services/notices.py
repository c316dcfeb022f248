"""Who is told what as a deployment moves: pointers to the work, never its content."""

from django.urls import reverse

from core.notices import holders, notices_settle, notify
from deployments.models import Deployment
from deployments.selectors import deployment_window


def _name(d: Deployment) -> str:
    return f"{d.reference} at {d.site.name} ({deployment_window(d)})"


def tell_assigned(deployment: Deployment, officers) -> None:
    notify(
        users=officers,
        kind="deployment.assigned",
        text=(
            f"You are assigned to {_name(deployment)}; "
            f"it is {deployment.get_state_display().lower()}."
        ),
        url=reverse("recognition:consoles"),
    )


def tell_submitted(deployment: Deployment) -> None:
    notify(
        users=holders("authorise_deployment"),
        exclude=deployment.requested_by_id,  # never the requester's own authorisation
        kind="deployment.authorisation_requested",
        text=f"{_name(deployment)} waits for authorisation.",
        url=reverse("deployments:authorise", args=[deployment.pk]),
    )


def tell_decided(deployment: Deployment, *, by, authorised: bool) -> None:
    verb = "authorised" if authorised else "refused"
    notify(
        users=[deployment.requested_by_id],
        kind=f"deployment.{verb}",
        text=f"{_name(deployment)} was {verb} by {by.get_username()}.",
        url=reverse("deployments:detail", args=[deployment.pk]),
    )
    if authorised:
        notify(
            users=deployment.officers.all(),
            kind="deployment.authorised",
            text=f"{_name(deployment)}, which you are assigned to, is authorised.",
            url=reverse("recognition:console", args=[deployment.pk]),
        )


def tell_live(deployment: Deployment) -> None:
    notify(
        users=deployment.officers.all(),
        kind="deployment.live",
        text=f"{_name(deployment)} is live now: open its console.",
        url=reverse("recognition:console", args=[deployment.pk]),
    )


def settle(deployment: Deployment, *, frm: str, to: str) -> None:
    """A notice stays new only while its work waits: an authorisation request until it is
    decided or the plan cancelled (an urgent start still waits), everything about the
    deployment once it has ended."""
    urls = []
    if frm == Deployment.State.SUBMITTED and to != Deployment.State.LIVE:
        urls.append(reverse("deployments:authorise", args=[deployment.pk]))
    if to in (Deployment.State.COMPLETED, Deployment.State.CANCELLED):
        urls += [
            reverse("deployments:authorise", args=[deployment.pk]),
            reverse("deployments:detail", args=[deployment.pk]),
            reverse("recognition:console", args=[deployment.pk]),
        ]
    if urls:
        notices_settle(urls=urls)
