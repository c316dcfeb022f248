"""Two-person verification: each officer's own check of an alert, before anyone acts on it.

EU AI Act Art. 14(5): no action is taken on a match unless at least two competent,
authorised people have separately verified it. On a deployment with `verification=two`
each assigned officer records "true match" or "false match" once; the decision with its
outcome (recognition.services.adjudication) waits until two different officers have.
Independence is kept on the wire (recognition.selectors.verification_view): an officer
sees the other's decision only once both are recorded.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core import access
from core.services import audit_record
from deployments.models import Deployment
from recognition.models import Alert, Verification
from recognition.selectors import (
    VERIFIERS_NEEDED,
    VerificationState,
    verification_rows,
    verification_state,
)
from recognition.services.alerts import consoles_nudge

NOTE_MAX = 2000
# The refusals that mean "someone (or you) verified first" (HTTP 409), not bad input.
CONFLICTS = {"already_verified", "verification_complete"}


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or str(value) == "":
        raise ValidationError("Say whether the alert is a true match.", code="is_true_match")
    return str(value).lower() in {"true", "1", "yes", "on"}


@transaction.atomic
def verification_record(*, alert: Alert, by, is_true_match: bool, note: str = "") -> Verification:
    """Record `by`'s own verification of `alert`. Once per officer; two per alert."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError(f"The note may be at most {NOTE_MAX} characters.", code="note")
    # Lock the alert so a second and a third officer verifying at once queue; the unique
    # (alert, by) constraint settles "the same officer twice" even without the lock.
    alert = Alert.objects.select_for_update().select_related("deployment").get(pk=alert.pk)
    access.require(by, "alert", "adjudicate", alert)  # an officer assigned to it, no one else
    if alert.is_test:
        # Blue-list: a test subject's alert is scored by its walk-through, never acted on.
        raise ValidationError(
            "This is a blue-list test alert (a staff volunteer): it is not verified or acted on.",
            code="test_alert",
        )
    if alert.deployment.verification != Deployment.Verification.TWO:
        raise ValidationError(
            "This deployment's alerts are decided by one officer: record the decision.",
            code="not_two_person",
        )
    rows = verification_rows(alert)
    if any(r.by_id == by.pk for r in rows):
        raise ValidationError(
            "You have verified this alert already: a second, different officer must verify it.",
            code="already_verified",
        )
    if len(rows) >= VERIFIERS_NEEDED:
        raise ValidationError(
            "Two officers have verified this alert already.", code="verification_complete"
        )
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the outer one usable
            row = Verification.objects.create(
                alert=alert, by=by, is_true_match=bool(is_true_match), note=note
            )
    except IntegrityError:
        raise ValidationError(
            "You have verified this alert already: a second, different officer must verify it.",
            code="already_verified",
        ) from None
    rows = [*rows, row]
    state = verification_state(rows)
    # Both identities and times, in the audit as on the alert: who verified, in which order.
    audit_record(
        actor=by,
        action="alert.verified",
        obj=alert,
        details={
            "alert": alert.pk,
            "deployment": alert.deployment_id,
            "seq": alert.seq,
            "is_true_match": row.is_true_match,
            "nth": len(rows),
            "state": state,
            "verifiers": [
                {"by": r.by_id, "at": r.at.isoformat(), "is_true_match": r.is_true_match}
                for r in rows
            ],
        },
    )
    deployment_id, seq = alert.deployment_id, alert.seq
    transaction.on_commit(lambda: verification_publish(deployment_id=deployment_id, seq=seq))
    return row


def verification_submit(*, alert: Alert, by, data) -> Verification:
    """Record a verification from submitted data (the console's form and the API alike)."""
    return verification_record(
        alert=alert,
        by=by,
        is_true_match=_flag(data.get("is_true_match")),
        note=str(data.get("note") or ""),
    )


def verification_saved_already(*, alert: Alert, by, data) -> bool:
    """Whether a retried verification is the one `by` recorded already (same decision)."""
    try:
        is_true = _flag(data.get("is_true_match"))
    except ValidationError:
        return False
    return Verification.objects.filter(alert=alert, by=by, is_true_match=is_true).exists()


def decision_allowed(*, alert: Alert, is_true_match: bool, outcome: str) -> None:
    """Refuse a decision the verifications do not allow (two-person deployments only).

    Nothing is decided before two officers have verified. Verified (both true): the
    decision is a true match, with any outcome. Both false, or a disagreement: not
    verified, so it is recorded as a false match with no action — no one acts on it.
    """
    if alert.deployment.verification != Deployment.Verification.TWO:
        return
    state = verification_state(verification_rows(alert))
    if state not in VerificationState.COMPLETE:
        raise ValidationError(
            "Two different officers must verify this alert before a decision is recorded.",
            code="not_verified",
        )
    if state == VerificationState.VERIFIED:
        if not is_true_match:
            raise ValidationError(
                "Two officers verified this alert as a true match.", code="verified_true"
            )
        return
    if is_true_match or outcome != "no_action":
        raise ValidationError(
            "This alert is not verified by two officers: record it as a false match, no action.",
            code="not_verified",
        )


def verification_publish(*, deployment_id: int, seq: int) -> None:
    """Nudge the deployment's consoles that alert `seq` has a new verification."""
    consoles_nudge(
        deployment_id=deployment_id,
        kind="alert.adjudicated",  # the consoles re-read the card, decisions and all
        seq=seq,
        unsent=f"verification of alert seq {seq} not published live",
    )
