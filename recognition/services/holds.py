"""Legal holds: keep an alert needed for proceedings beyond its retention period.

Placing and lifting a hold each need a reason and are audited (the reason is kept in the
audit event, so the history of holds survives their release). Permission is checked by
`access.require(by, "alert", "hold" | "release", alert)` here, whoever the caller.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import access
from core.services import audit_record
from recognition.models import Alert

MIN_REASON = 10


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise ValidationError(
            f"Give the reason (at least {MIN_REASON} characters), e.g. the case or proceedings.",
            code="reason",
        )
    return reason[:1000]


@transaction.atomic
def alert_hold_place(*, alert: Alert, by, reason: str) -> Alert:
    access.require(by, "alert", "hold", alert)
    reason = _clean_reason(reason)
    now = timezone.now()
    # Conditional update: two holders racing, or a hold racing the retention job, are
    # decided by the row count, never by a stale read.
    changed = Alert.objects.filter(pk=alert.pk, legal_hold=False).update(
        legal_hold=True, hold_reason=reason, held_by=by, held_at=now
    )
    if not changed:
        if not Alert.objects.filter(pk=alert.pk).exists():
            raise ValidationError("This alert no longer exists.", code="gone")
        raise ValidationError("This alert is already on legal hold.", code="held")
    audit_record(
        actor=by,
        action="alert.hold_placed",
        obj=alert,
        details={"reason": reason, "deployment_id": alert.deployment_id},
    )
    alert.refresh_from_db()
    return alert


@transaction.atomic
def alert_hold_release(*, alert: Alert, by, reason: str) -> Alert:
    access.require(by, "alert", "release", alert)
    reason = _clean_reason(reason)
    previous = Alert.objects.filter(pk=alert.pk).values("hold_reason", "held_by_id").first()
    changed = Alert.objects.filter(pk=alert.pk, legal_hold=True).update(
        legal_hold=False, hold_reason="", held_by=None, held_at=None
    )
    if not changed:
        raise ValidationError("This alert is not on legal hold.", code="not_held")
    audit_record(
        actor=by,
        action="alert.hold_released",
        obj=alert,
        details={
            "reason": reason,
            "deployment_id": alert.deployment_id,
            "placed_reason": (previous or {}).get("hold_reason", ""),
            "placed_by_id": (previous or {}).get("held_by_id"),
        },
    )
    alert.refresh_from_db()
    return alert
