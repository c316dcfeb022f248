"""Oversight's only writes: audit events recording what oversight read, and the cached
result of verifying the audit chain. Oversight changes no record of any other app."""

from django.core.cache import cache
from django.utils import timezone

from core.models import AuditEvent
from core.services import audit_record, audit_verify

VERIFY_CACHE_KEY = "oversight:audit-verify"
# The walk reads the whole chain, so its result is kept (and shown with its time) until
# someone asks to verify again; a day is long enough for a page, short enough to matter.
VERIFY_CACHE_SECONDS = 24 * 3600


def audit_chain_verify(*, by) -> dict:
    """Walk the whole chain now, remember the result for the explorer, and audit the check."""
    ok, checked, bad, why = audit_verify()
    result = {
        "ok": ok,
        "checked": checked,
        "at": timezone.now().isoformat(),
        "bad_seq": bad.seq if bad is not None else None,
        "why": why,
    }
    cache.set(VERIFY_CACHE_KEY, result, VERIFY_CACHE_SECONDS)
    audit_record(
        actor=by,
        action="audit.verified",
        object_type="core.auditevent",
        outcome=AuditEvent.OUTCOME_ALLOWED,
        details={"ok": ok, "checked": checked, "bad_seq": result["bad_seq"]},
    )
    return result


def audit_chain_status(*, by) -> dict:
    """The last verification, running one first if there is none yet."""
    result = cache.get(VERIFY_CACHE_KEY)
    if result is None:
        result = audit_chain_verify(by=by)
    latest = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    return {**result, "since": max(0, latest - result["checked"])}


def audit_read_record(
    *,
    by,
    action: str,
    details: dict,
    purpose: str = "",
    object_type: str = "core.auditevent",
    object_id: str | int = "",
) -> None:
    """Reading the audit log, or a subject's trail, is itself a consultation to record."""
    audit_record(
        actor=by,
        action=action,
        object_type=object_type,
        object_id=object_id,
        purpose=purpose,
        details=details,
    )


def subject_history_read(*, by, reference: str, purpose: str, api: bool = False) -> dict | None:
    """A subject's trail, recorded with the reader's purpose; None if nothing is known."""
    from oversight.selectors import subject_history

    history = subject_history(reference)
    if history is None:
        return None
    audit_read_record(
        by=by,
        action="subject.history_viewed",
        purpose=purpose,
        object_type="watchlists.subject",
        object_id=history["subject"].pk if history["subject"] else "",
        details={"subject_reference": reference, "alerts": len(history["alerts"]), "api": api},
    )
    return history
