"""The published record of a deployment: computed, reviewed, signed off."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import access
from core.services import audit_record
from deployments import selectors
from deployments.models import Deployment, DeploymentRecord
from deployments.services.states import State


@transaction.atomic
def record_compute(*, deployment: Deployment) -> DeploymentRecord:
    """(Re)compute the published fields from the alerts and their latest adjudications.
    Frozen once oversight has signed the record off."""
    record = DeploymentRecord.objects.select_for_update().filter(deployment=deployment).first()
    if record is not None and record.signed_off_at is not None:
        return record
    fields = selectors.record_fields(deployment)
    undecided = fields["Total Alerts"] - selectors.decided(fields)
    breakdown = selectors.record_breakdown(deployment)
    blue = selectors.blue_list(deployment)
    verification = selectors.verification_figures(deployment)
    if record is None:
        record = DeploymentRecord.objects.create(
            deployment=deployment,
            computed_at=timezone.now(),
            fields=fields,
            not_adjudicated=undecided,
            breakdown=breakdown,
            blue_list=blue,
            verification=verification,
        )
    else:
        record.fields, record.computed_at = fields, timezone.now()
        record.not_adjudicated, record.breakdown = undecided, breakdown
        record.blue_list, record.verification = blue, verification
        record.save(
            update_fields=[
                "fields",
                "computed_at",
                "not_adjudicated",
                "breakdown",
                "blue_list",
                "verification",
            ]
        )
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
