"""The independent authority's decision on a deployment (EU AI Act Art. 5(3)) and the
force-wide assessments the activation gate relies on (DPIA, appropriate policy document,
equality, fundamental-rights impact assessment, EU database registration)."""

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import access
from core.services import audit_record
from deployments.models import Assessment, Deployment, IndependentAuthorisation
from deployments.services.lifecycle import deployment_complete, deployment_purge
from deployments.services.states import State

Outcome = IndependentAuthorisation.Outcome
OPEN = (State.DRAFT, State.SUBMITTED, State.AUTHORISED, State.LIVE)


def _required_text(**fields) -> None:
    for label, value in fields.items():
        if not (value or "").strip():
            raise ValidationError(f"Give the {label.replace('_', ' ')}.")


@transaction.atomic
def independent_authorisation_record(
    *,
    deployment: Deployment,
    by,
    authority: str,
    reference: str,
    decided_at: datetime,
    outcome: str,
    scope_window: str = "",
    scope_place: str = "",
    scope_targets: str = "",
    conditions: str = "",
    now: datetime | None = None,
) -> IndependentAuthorisation:
    """Record the external decision. A refusal of a live urgent start stops it at once and
    deletes all data and outputs of that use, with a receipt; a refusal of a live
    deployment granted before (a grant withdrawn) stops it."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    access.require(by, "deployment", "record_independent", deployment)
    if not deployment.independent_authorisation_required:
        raise ValidationError("This deployment does not need independent authorisation.")
    if deployment.state not in OPEN:
        raise ValidationError("The deployment has ended: its authorisation is closed.")
    if authority not in settings.LFR_INDEPENDENT_AUTHORITIES:
        raise ValidationError(
            "The authority must be one of: " + "; ".join(settings.LFR_INDEPENDENT_AUTHORITIES)
        )
    if outcome not in Outcome.values:
        raise ValidationError("The outcome must be granted or refused.")
    _required_text(reference=reference)
    if outcome == Outcome.GRANTED:
        # A grant is binding and limited in time, place and persons: all three are stated.
        _required_text(time_window=scope_window, place=scope_place, targeted_persons=scope_targets)
    now = now or timezone.now()
    if decided_at > now:
        raise ValidationError("The decision date cannot be in the future.")
    granted_before = deployment.independent_authorisations.filter(outcome=Outcome.GRANTED).exists()
    decision = IndependentAuthorisation.objects.create(
        deployment=deployment,
        authority=authority,
        reference=reference.strip(),
        decided_at=decided_at,
        outcome=outcome,
        scope_window=scope_window.strip(),
        scope_place=scope_place.strip(),
        scope_targets=scope_targets.strip(),
        conditions=conditions.strip(),
        recorded_by=by,
    )
    audit_record(
        actor=by,
        action="deployment.independent_authorisation",
        obj=deployment,
        details={
            "decision_id": decision.pk,
            "authority": authority,
            "reference": decision.reference,
            "decided_at": decided_at.isoformat(),
            "outcome": outcome,
            "state": deployment.state,
        },
    )
    if outcome == Outcome.REFUSED and deployment.state == State.LIVE:
        why = f"independent authorisation refused by {authority} ({decision.reference})"
        if deployment.urgent and not granted_before:
            deployment_purge(
                deployment=deployment,
                now=now,
                by=by,
                action="deployment.independent_refusal_purge",
                reason=why,
            )
        else:
            deployment_complete(deployment=deployment, by=by, reason=why, now=now)
    return decision


@transaction.atomic
def assessment_record(
    *,
    by,
    kind: str,
    reference: str,
    version: str,
    owner: str,
    review_date: date,
    approved_at: datetime | None = None,
) -> Assessment:
    """Record an approved version of an assessment; the newest approved one of a kind is
    the one in force until its review date."""
    access.require(by, "assessment", "record")
    if kind not in Assessment.Kind.values:
        raise ValidationError("Unknown kind of assessment.")
    _required_text(reference=reference, version=version, owner=owner)
    approved_at = approved_at or timezone.now()
    if review_date <= timezone.localdate(approved_at):
        raise ValidationError("The review date must be after the approval.")
    if Assessment.objects.filter(kind=kind, reference=reference, version=version).exists():
        raise ValidationError("That version of this assessment is already recorded.")
    a = Assessment.objects.create(
        kind=kind,
        reference=reference.strip(),
        version=version.strip(),
        owner=owner.strip(),
        approved_by=by,
        approved_at=approved_at,
        review_date=review_date,
    )
    audit_record(
        actor=by,
        action="assessment.record",
        obj=a,
        details={
            "kind": kind,
            "reference": a.reference,
            "version": a.version,
            "review_date": review_date.isoformat(),
        },
    )
    return a
