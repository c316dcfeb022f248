"""Alert retention: alerts (with their crops and adjudications) live LFR_ALERT_RETENTION_DAYS.

Called hourly by the beat task `recognition.tasks.alert_retention`. Like every retention
job (watchlist entries, frozen deployment watchlists), a run that deletes something leaves
one deletion receipt in the audit log, counts and ids and never content, and a run that
deletes nothing leaves none: an hourly "nothing to do" row would bury the receipts that
matter.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.services import audit_record
from recognition.models import Adjudication, Alert, AlertDeletion, Verification

RECEIPT_ACTION = "retention.alerts"
# A receipt lists the ids it deleted; past this many it says how many it left out, so
# one run after a long outage cannot write an unbounded audit row.
MAX_IDS_IN_RECEIPT = 5000


def alerts_delete_of(*, deployment) -> int:
    """Delete every alert of `deployment` with its decisions; return how many alerts.

    For `deployments.services`: an urgent start not authorised in time loses all it
    collected. The caller locks the deployment and writes the audit row.
    """
    ids = list(Alert.objects.filter(deployment=deployment).values_list("pk", flat=True))
    return len(_alerts_delete(ids, reason=f"deployment {deployment.pk} purged", held=True))


def _alerts_delete(ids: list[int], *, reason: str, held: bool = False) -> list[int]:
    """Delete these alerts with their decisions and verifications; return the ids deleted.

    On PostgreSQL through `recognition_alerts_delete()` (migration 0008): the app role has
    no DELETE on these tables, the function skips held alerts and writes an AlertDeletion
    receipt. `held=True` (a purge ordered because the use itself was unlawful) lifts the
    holds first, which the audit row of the caller records."""
    if not ids:
        return []
    if held:
        Alert.objects.filter(pk__in=ids, legal_hold=True).update(legal_hold=False)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT recognition_alerts_delete(%s::bigint[], %s)", [ids, reason])
            return sorted(cursor.fetchone()[0])
    doomed = sorted(Alert.objects.filter(pk__in=ids, legal_hold=False).values_list("pk", flat=True))
    verifications = Verification.objects.filter(alert_id__in=doomed).delete()[0]
    adjudications = Adjudication.objects.filter(alert_id__in=doomed)
    count = adjudications.count()
    # A correction points at the decision it corrects (PROTECT), so delete from the end
    # of each chain: rows nobody corrects, until none are left.
    while adjudications.exists():
        adjudications.filter(corrected_by__isnull=True).delete()
    Alert.objects.filter(pk__in=doomed).delete()
    if doomed:
        AlertDeletion.objects.create(
            at=timezone.now(),
            db_user=str(connection.settings_dict.get("USER") or ""),
            reason=reason[:200],
            alert_ids=doomed,
            alerts=len(doomed),
            adjudications=count,
            verifications=verifications,
        )
    return doomed


@transaction.atomic
def alerts_purge_expired(*, now=None) -> dict:
    """Delete unheld alerts older than the retention period; return the receipt's details."""
    now = now or timezone.now()
    days = settings.LFR_ALERT_RETENTION_DAYS
    cutoff = now - timedelta(days=days)
    # Lock the doomed rows first: a legal hold racing this job either lands before the
    # lock (and the row is no longer selected) or waits and then finds the row gone.
    ids = list(
        Alert.objects.select_for_update()
        .filter(created_at__lt=cutoff, legal_hold=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    held_kept = Alert.objects.filter(created_at__lt=cutoff, legal_hold=True).count()
    adjudication_count = Adjudication.objects.filter(alert_id__in=ids).count()
    deleted = len(_alerts_delete(ids, reason=RECEIPT_ACTION))
    details = {
        "retention_days": days,
        "cutoff": cutoff.isoformat(),
        "alerts_deleted": deleted,
        "adjudications_deleted": adjudication_count,
        "held_kept": held_kept,
        "alert_ids": ids[:MAX_IDS_IN_RECEIPT],
        "ids_left_out": max(0, len(ids) - MAX_IDS_IN_RECEIPT),
    }
    if ids:
        audit_record(action=RECEIPT_ACTION, object_type="recognition.alert", details=details)
    return details
