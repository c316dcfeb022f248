"""Reads for the authority a deployment rests on beyond its internal authorisation: the
independent authority's decision (EU AI Act Art. 5(3)) and the force-wide assessments
with their versions and review dates. Kept apart from selectors.py, which is past its
size; callers import it as `authority`."""

from datetime import date

from django.conf import settings
from django.utils import timezone

from deployments.models import Assessment, Deployment, IndependentAuthorisation

Outcome = IndependentAuthorisation.Outcome


def independent_decision(deployment: Deployment) -> IndependentAuthorisation | None:
    """The decision in force: the latest one decided (a later decision replaces an
    earlier one, e.g. a grant withdrawn on appeal)."""
    return deployment.independent_authorisations.order_by("-decided_at", "-pk").first()


def independent_granted(deployment: Deployment) -> bool:
    """True when the deployment needs no independent decision or its decision is a grant."""
    if not deployment.independent_authorisation_required:
        return True
    decision = independent_decision(deployment)
    return decision is not None and decision.outcome == Outcome.GRANTED


def independent_blockers(deployment: Deployment) -> list[str]:
    if independent_granted(deployment):
        return []
    decision = independent_decision(deployment)
    if decision is None:
        return ["no independent prior authorisation"]
    return [f"independent authorisation refused by {decision.authority} ({decision.reference})"]


def assessments_current(today: date | None = None) -> dict[str, Assessment]:
    """The latest approved version of each kind, whatever its review date."""
    latest = {}
    for a in Assessment.objects.order_by("kind", "-approved_at", "-pk"):
        latest.setdefault(a.kind, a)
    return latest


def assessment_blockers(today: date | None = None) -> list[str]:
    """Why the force's assessments do not allow a deployment to go live; empty when every
    kind in LFR_REQUIRED_ASSESSMENTS has a current approved version not past review."""
    today = today or timezone.localdate()
    latest = assessments_current()
    labels = dict(Assessment.Kind.choices)
    missing = []
    for kind in settings.LFR_REQUIRED_ASSESSMENTS:
        a = latest.get(kind)
        if a is None:
            missing.append(f"no approved {labels[kind]}")
        elif a.review_date < today:
            missing.append(
                f"{labels[kind]} {a.reference} v{a.version} was due for review on "
                f"{a.review_date:%Y-%m-%d}"
            )
    return missing


def assessments_list(today: date | None = None) -> list[dict]:
    """Every version recorded, newest first per kind, with its review state."""
    today = today or timezone.localdate()
    latest = {a.pk for a in assessments_current().values()}
    required = set(settings.LFR_REQUIRED_ASSESSMENTS)
    rows = []
    for a in Assessment.objects.select_related("approved_by"):
        if a.pk not in latest:
            state = "superseded"
        elif a.review_date < today:
            state = "past review"
        else:
            state = "current"
        rows.append({"a": a, "state": state, "required": a.kind in required})
    return rows
