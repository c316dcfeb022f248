"""Retention: what is held, for how long, what is on hold, and the deletion receipts."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import AuditEvent
from deployments.models import DeploymentWatchlist
from oversight.selectors.reports import alert_facts
from recognition.models import Alert
from watchlists.models import ReferenceImage, WatchlistEntry

# Deletion receipts left by each app's retention job. Named today (read from their code):
# retention.alerts (recognition), retention.deployment_watchlists (deployments),
# retention.watchlist_entries (watchlists); the other patterns catch receipts named in
# the older style ("<thing>.purged", "..._receipt").
RECEIPT_Q = (
    Q(action__startswith="retention.")
    | Q(action__endswith="purged")
    | Q(action__contains="receipt")
    | Q(action__endswith="destroyed")
)


def retention(*, now: datetime | None = None) -> dict:
    """What is held, when each kind will be deleted, the holds and the latest receipts."""
    now = now or timezone.now()
    alert_days = settings.LFR_ALERT_RETENTION_DAYS
    grace = timedelta(hours=settings.LFR_WATCHLIST_GRACE_HOURS)
    purge_after = timedelta(days=settings.LFR_ENTRY_PURGE_DAYS)
    cutoff = now - timedelta(days=alert_days)

    alerts = Alert.objects.aggregate(
        total=Count("pk"),
        with_crop=Count("pk", filter=Q(crop__isnull=False)),
        held=Count("pk", filter=Q(legal_hold=True)),
        overdue=Count("pk", filter=Q(legal_hold=False, created_at__lt=cutoff)),
        held_past=Count("pk", filter=Q(legal_hold=True, created_at__lt=cutoff)),
        due_week=Count(
            "pk",
            filter=Q(
                legal_hold=False,
                created_at__gte=cutoff,
                created_at__lt=cutoff + timedelta(days=7),
            ),
        ),
    )
    alerts["without_crop"] = alerts["total"] - alerts["with_crop"]
    oldest = (
        Alert.objects.filter(legal_hold=False).order_by("created_at").values("created_at").first()
    )
    alerts["next_deletion"] = oldest["created_at"] + timedelta(days=alert_days) if oldest else None
    alerts["next_overdue"] = bool(alerts["next_deletion"] and alerts["next_deletion"] < now)

    snapshots = DeploymentWatchlist.objects.aggregate(
        total=Count("pk"), with_encodings=Count("pk", filter=Q(encodings__isnull=False))
    )
    snapshots["without_encodings"] = snapshots["total"] - snapshots["with_encodings"]
    # Due at the ACTUAL end + grace: a deployment stopped early is destroyed early.
    pending = (
        DeploymentWatchlist.objects.filter(encodings__isnull=False)
        .select_related("deployment")
        .annotate(ends=Coalesce("deployment__ended_at", "deployment__ends_at"))
        .order_by("ends")
    )
    snapshot_due = [
        {
            "deployment": s.deployment,
            "entries": len(s.entry_ids or []),
            "ended": s.deployment.ended_at is not None,
            "due": s.deployment.actual_end + grace,
            "overdue": s.deployment.actual_end + grace < now,
        }
        for s in pending[:50]
    ]

    by_state = dict(
        WatchlistEntry.objects.values_list("state").annotate(n=Count("pk")).order_by("state")
    )
    entries = [
        {"state": value, "label": label, "count": by_state.get(value, 0)}
        for value, label in WatchlistEntry.State.choices
    ]
    ended = WatchlistEntry.objects.filter(
        state__in=[WatchlistEntry.State.EXPIRED, WatchlistEntry.State.WITHDRAWN],
        purged_at__isnull=True,
    )
    entry_due = [
        {
            "entry_id": e.pk,
            "state": e.get_state_display(),
            "ended_at": e.ended_at,
            "due": (e.ended_at + purge_after) if e.ended_at else None,
        }
        for e in ended.order_by("ended_at")[:50]
    ]
    images = ReferenceImage.objects.aggregate(
        total=Count("pk"),
        with_jpeg=Count("pk", filter=Q(jpeg__isnull=False)),
        with_encoding=Count("pk", filter=Q(encoding__isnull=False)),
    )
    images["purged"] = ReferenceImage.objects.filter(
        jpeg__isnull=True, encoding__isnull=True
    ).count()

    return {
        "now": now,
        "settings": {
            "alert_days": alert_days,
            "grace_hours": settings.LFR_WATCHLIST_GRACE_HOURS,
            "entry_purge_days": settings.LFR_ENTRY_PURGE_DAYS,
        },
        "alerts": alerts,
        "alert_cutoff": cutoff,
        "snapshots": snapshots,
        "snapshot_due": snapshot_due,
        "entries": entries,
        "entries_awaiting_purge": ended.count(),
        "entry_due": entry_due,
        "images": images,
    }


def held_alerts():
    return (
        alert_facts(Alert.objects.filter(legal_hold=True))
        .select_related("deployment", "held_by")
        .order_by("held_at", "pk")
    )


HOLD_ACTIONS = ["alert.hold_placed", "alert.hold_released"]


def hold_history(limit: int = 50):
    return AuditEvent.objects.filter(action__in=HOLD_ACTIONS).order_by("-seq")[:limit]


def deletion_receipts(limit: int = 20):
    return AuditEvent.objects.filter(RECEIPT_Q).order_by("-seq")[:limit]
