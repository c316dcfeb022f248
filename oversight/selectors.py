"""Reads for oversight reports: effectiveness, accuracy, equality and retention.

Oversight owns no tables; every figure here is computed from the other apps' records.
Each report returns plain rows (dicts) so the page, the chart, the CSV and the API all
show the same numbers.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import AuditEvent
from deployments.models import Deployment, DeploymentWatchlist, UseCase
from recognition.models import Adjudication, Alert, EvaluationRun
from recognition.selectors import decisions_in_force
from watchlists.models import ReferenceImage, WatchlistEntry

# --- effective adjudication ---------------------------------------------------------------


def alert_facts(alerts):
    """Alerts annotated with their decision in force and their first decision's time.

    The effective decision is `recognition.selectors.decisions_in_force`; the time to
    adjudication is measured to the *first* decision, because that is when an officer
    acted on the alert.
    """
    latest = decisions_in_force().filter(alert=OuterRef("pk")).order_by("-pk")
    first = Adjudication.objects.filter(alert=OuterRef("pk")).order_by("at", "pk")
    return alerts.annotate(
        eff_true=Subquery(latest.values("is_true_match")[:1]),
        eff_confirmed=Subquery(latest.values("confirmed")[:1]),
        eff_outcome=Subquery(latest.values("outcome")[:1]),
        eff_group=Subquery(latest.values("perceived_group")[:1]),
        first_at=Subquery(first.values("at")[:1]),
    )


# --- effectiveness --------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts for one group of deployments (a month, a use case, a site, or one deployment)."""

    key: str
    label: str
    deployments: int = 0
    faces_seen: int = 0
    alerts: int = 0
    true_confirmed: int = 0
    true_unconfirmed: int = 0
    false_confirmed: int = 0
    false_unconfirmed: int = 0
    arrest: int = 0
    other: int = 0
    no_action: int = 0
    minutes_to_decision: list = field(default_factory=list)

    @property
    def true_alerts(self):
        return self.true_confirmed + self.true_unconfirmed

    @property
    def false_alerts(self):
        return self.false_confirmed + self.false_unconfirmed

    @property
    def adjudicated(self):
        return self.true_alerts + self.false_alerts

    @property
    def unadjudicated(self):
        return self.alerts - self.adjudicated

    @property
    def false_alert_rate(self):
        """False alerts as a share of ADJUDICATED alerts, as each deployment's published
        record states it: an undecided alert is neither true nor false, and counting it in
        the base made 0 false of 3 decided (72 undecided) read 0 %. None when none decided."""
        return self.false_alerts / self.adjudicated if self.adjudicated else None

    @property
    def median_minutes_to_decision(self):
        if not self.minutes_to_decision:
            return None
        return round(statistics.median(self.minutes_to_decision), 1)

    def row(self) -> dict:
        rate = self.false_alert_rate
        return {
            "key": self.key,
            "label": self.label,
            "deployments": self.deployments,
            "faces_seen": self.faces_seen,
            "alerts": self.alerts,
            "true_alerts": self.true_alerts,
            "true_confirmed": self.true_confirmed,
            "true_unconfirmed": self.true_unconfirmed,
            "false_alerts": self.false_alerts,
            "false_confirmed": self.false_confirmed,
            "false_unconfirmed": self.false_unconfirmed,
            "unadjudicated": self.unadjudicated,
            "false_alert_rate": None if rate is None else round(rate, 4),
            "median_minutes_to_decision": self.median_minutes_to_decision,
            "outcome_arrest": self.arrest,
            "outcome_other": self.other,
            "outcome_no_action": self.no_action,
        }


EFFECTIVENESS_COLUMNS = [
    "key",
    "label",
    "deployments",
    "faces_seen",
    "alerts",
    "true_alerts",
    "true_confirmed",
    "true_unconfirmed",
    "false_alerts",
    "false_confirmed",
    "false_unconfirmed",
    "unadjudicated",
    "false_alert_rate",
    "median_minutes_to_decision",
    "outcome_arrest",
    "outcome_other",
    "outcome_no_action",
]
GROUPINGS = {"month": "Month", "use_case": "Use case", "site": "Site", "deployment": "Deployment"}


def reported_deployments(*, since=None, until=None, use_case="", site_id=None):
    """Deployments that ran (or are running), optionally filtered by start date and kind."""
    qs = Deployment.objects.filter(
        Q(started_at__isnull=False)
        | Q(state__in=[Deployment.State.LIVE, Deployment.State.COMPLETED])
    ).select_related("site")
    if since:
        qs = qs.filter(starts_at__gte=since)
    if until:
        qs = qs.filter(starts_at__lt=until)
    if use_case:
        qs = qs.filter(use_case=use_case)
    if site_id:
        qs = qs.filter(site_id=site_id)
    return qs.order_by("starts_at", "pk")


def _group_key(deployment, by: str) -> tuple[str, str]:
    if by == "month":
        month = timezone.localtime(deployment.starts_at).strftime("%Y-%m")
        return month, month
    if by == "use_case":
        return deployment.use_case, UseCase(deployment.use_case).label
    if by == "site":
        return str(deployment.site_id), deployment.site.name
    return str(deployment.pk), deployment.reference


def effectiveness_all(*, groupings=tuple(GROUPINGS), **filters) -> dict[str, dict]:
    """Tallies for several groupings at once (one pass over the alerts); by grouping."""
    for by in groupings:
        if by not in GROUPINGS:
            raise ValueError(f"unknown grouping {by!r}")
    deployments = list(reported_deployments(**filters))
    total = Tally(key="all", label="All deployments")
    groups = {by: {} for by in groupings}
    owners = defaultdict(list)  # deployment id -> its tally in every grouping, and the total
    for d in deployments:
        for by in groupings:
            key, label = _group_key(d, by)
            owners[d.pk].append(groups[by].setdefault(key, Tally(key=key, label=label)))
        owners[d.pk].append(total)
        for t in owners[d.pk]:
            t.deployments += 1
            t.faces_seen += d.faces_seen
    rows = alert_facts(Alert.objects.filter(deployment_id__in=list(owners))).values(
        "deployment_id", "created_at", "eff_true", "eff_confirmed", "eff_outcome", "first_at"
    )
    for a in rows.iterator():
        for t in owners[a["deployment_id"]]:
            _count_alert(t, a)
    reports = {}
    for by in groupings:
        if by == "deployment":  # in start order, as planned
            ordered = [groups[by][str(d.pk)] for d in deployments]
        else:
            ordered = sorted(groups[by].values(), key=lambda t: t.key if by == "month" else t.label)
        reports[by] = {"by": by, "rows": [t.row() for t in ordered], "total": total.row()}
    return reports


def effectiveness(*, by: str, **filters) -> dict:
    """Per-group tallies plus a total row, for one grouping in GROUPINGS."""
    return effectiveness_all(groupings=(by,), **filters)[by]


def _count_alert(t: Tally, a: dict) -> None:
    t.alerts += 1
    if a["eff_true"] is None:
        return
    if a["eff_true"]:
        if a["eff_confirmed"]:
            t.true_confirmed += 1
        else:
            t.true_unconfirmed += 1
    elif a["eff_confirmed"]:
        t.false_confirmed += 1
    else:
        t.false_unconfirmed += 1
    outcome = a["eff_outcome"]
    if outcome in (Adjudication.Outcome.ARREST, Adjudication.Outcome.OTHER):
        setattr(t, outcome, getattr(t, outcome) + 1)
    else:
        t.no_action += 1
    if a["first_at"] is not None:
        t.minutes_to_decision.append((a["first_at"] - a["created_at"]).total_seconds() / 60)


# --- accuracy -----------------------------------------------------------------------------


def evaluation_runs():
    return EvaluationRun.objects.order_by("-created_at", "-pk")


def accuracy(run: EvaluationRun) -> dict:
    """One evaluation run as sorted threshold rows, with its operating point located."""

    def rate(value):
        return None if value is None else float(value)

    rows = []
    for item in run.thresholds or []:
        try:
            rows.append(
                {
                    "threshold": float(item["threshold"]),
                    # None when the set had no pairs of that kind: unknown, not zero.
                    "tpr": rate(item.get("tpr")),
                    "fpr": rate(item.get("fpr")),
                    "accuracy": rate(item.get("accuracy")),
                }
            )
        except (KeyError, TypeError, ValueError):
            continue  # a malformed row is skipped, not guessed at
    rows.sort(key=lambda r: r["threshold"])
    point = dict(run.operating_point or {})
    point.setdefault("threshold", run.operating_threshold)
    if rows and ("tpr" not in point or "fpr" not in point):
        nearest = min(rows, key=lambda r: abs(r["threshold"] - run.operating_threshold))
        point.setdefault("tpr", nearest["tpr"])
        point.setdefault("fpr", nearest["fpr"])
    return {
        "run": run,
        "rows": rows,
        "operating_point": point,
        "no_face_count": len(run.no_face or []),
    }


# --- equality -----------------------------------------------------------------------------

Z95 = 1.959963984540054
# "Too few to conclude": fewer than MIN_N decided alerts in the group, or a 95 % interval
# wider than MAX_CI_WIDTH (20 percentage points). Either way the rate could move a lot
# with a handful more alerts, so no comparison between groups should be drawn from it.
MIN_N = 30
MAX_CI_WIDTH = 0.2
NOT_RECORDED = "Not recorded"


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (well behaved near 0 and small n)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def equality(*, since=None, until=None) -> dict:
    """False alerts by perceived group of decided alerts, with rates and 95 % intervals."""
    alerts = Alert.objects.all()
    if since:
        alerts = alerts.filter(created_at__gte=since)
    if until:
        alerts = alerts.filter(created_at__lt=until)
    counts = defaultdict(lambda: [0, 0])  # group -> [alerts, false]
    for a in alert_facts(alerts).filter(eff_true__isnull=False).values("eff_true", "eff_group"):
        group = a["eff_group"] or NOT_RECORDED
        counts[group][0] += 1
        counts[group][1] += 0 if a["eff_true"] else 1
    known = list(settings.LFR_EQUALITY_GROUPS)
    if NOT_RECORDED not in known:
        known.append(NOT_RECORDED)
    names = known + sorted(g for g in counts if g not in known)
    rows = []
    for name in names:
        n, false = counts.get(name, (0, 0))
        low, high = wilson_interval(false, n)
        weak = n < MIN_N or (high - low) > MAX_CI_WIDTH
        rows.append(
            {
                "group": name,
                "alerts": n,
                "false_alerts": false,
                "rate": round(false / n, 4) if n else None,
                "ci_low": round(low, 4) if n else None,
                "ci_high": round(high, 4) if n else None,
                "too_few": weak,
                "recorded": name != NOT_RECORDED,
            }
        )
    return {"rows": rows, "conclusion": _equality_conclusion(rows)}


def _equality_conclusion(rows) -> str:
    solid = [r for r in rows if r["alerts"] and not r["too_few"] and r["recorded"]]
    if len(solid) < 2:
        return (
            "Too few adjudicated alerts with a recorded group to conclude anything about "
            "differences between groups."
        )
    apart = [
        (a["group"], b["group"])
        for i, a in enumerate(solid)
        for b in solid[i + 1 :]
        if a["ci_high"] < b["ci_low"] or b["ci_high"] < a["ci_low"]
    ]
    if not apart:
        return (
            "The 95% intervals of every group with enough data overlap: no difference "
            "between groups is shown at this sample size."
        )
    pairs = "; ".join(f"{a} and {b}" for a, b in apart)
    return f"False alert rates differ beyond chance (non-overlapping 95% intervals): {pairs}."


# --- retention ----------------------------------------------------------------------------

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


# --- audit explorer -------------------------------------------------------------------------


def audit_events(
    *, user="", action="", object_type="", object_id="", outcome="", since=None, until=None
):
    """The audit log filtered as the explorer's form asks; newest first."""
    qs = AuditEvent.objects.all()
    if user:
        qs = qs.filter(actor_username__iexact=user)
    if action:
        qs = qs.filter(action__istartswith=action)
    if object_type:
        qs = qs.filter(object_type__iexact=object_type)
    if object_id:
        qs = qs.filter(object_id=str(object_id))
    if outcome:
        qs = qs.filter(outcome=outcome)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-seq")


AUDIT_CSV_COLUMNS = [
    "seq",
    "at",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "purpose",
    "request_id",
    "client_addr",
    "details",
    "hash",
]


# --- flags for unusual use ------------------------------------------------------------------
#
# A flag is a prompt for a human reviewer, not a finding. Thresholds are deliberately
# simple so a reviewer can check them by hand against the events listed.

# Sensitive reads are recognised by name, whatever app wrote them: actions ending in
# "_viewed" (alert.crop_viewed, alert.reference_viewed, subject.history_viewed) or
# containing "image" or "crop" (watchlist.image_view), plus the subject-history reads
# named below, which must carry a purpose too. Plain record views (watchlist.entry_view,
# deployment.view) are audited but need no purpose, so they are not counted here.
SUBJECT_HISTORY_READS = {"watchlist.subject_view"}
IMAGE_VIEWS_LIMIT = 30  # views by one user ...
IMAGE_VIEWS_WINDOW = timedelta(hours=1)  # ... within any window this long
DENIED_LIMIT = 5  # denied attempts by one user (or one login name) ...
DENIED_WINDOW = timedelta(minutes=15)  # ... within any window this long
FLAG_DEFAULT_DAYS = 30  # flags look this far back when no time range is given
# Placeholder purposes (compared lower-cased, and with punctuation and spaces removed).
JUNK_PURPOSES = set(
    "test testing tst x xx xxx xxxx asdf qwerty abc abcd n/a na none nil null purpose "
    "reason check checking look looking justlooking curious because dunno idk 123 1234 "
    "12345 foo bar blah ok okay yes no - . ... ?".split()
)
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "abcdefghijklmnopqrstuvwxyz")


SENSITIVE_READ_Q = (
    Q(action__iendswith="_viewed")
    | Q(action__icontains="image")
    | Q(action__icontains="crop")
    | Q(action__in=SUBJECT_HISTORY_READS)
)


def is_sensitive_read(action: str) -> bool:
    lower = action.lower()
    return (
        lower.endswith("_viewed")
        or "image" in lower
        or "crop" in lower
        or lower in SUBJECT_HISTORY_READS
    )


def weak_purpose_reason(purpose: str) -> str:
    """Why a purpose is not a real purpose ("" when it is acceptable)."""
    from core.purpose import MIN_LENGTH

    text = " ".join((purpose or "").split())
    if not text:
        return "no purpose given"
    lower = text.lower()
    compact = "".join(ch for ch in lower if ch.isalnum())
    if lower in JUNK_PURPOSES or compact in JUNK_PURPOSES:
        return "placeholder text"
    if not compact:
        return "no letters or digits"
    if len(set(compact)) == 1:
        return "repeated characters"
    for size in range(1, len(compact) // 2 + 1):
        if len(compact) % size == 0 and compact[:size] * (len(compact) // size) == compact:
            return "repeated characters"
    if len(compact) >= 4 and any(compact in row for row in _KEYBOARD_ROWS):
        return "keyboard run"
    if len(text) < MIN_LENGTH:
        return "too short"
    return ""


def _densest_window(times: list[datetime], window: timedelta) -> tuple[int, datetime, datetime]:
    """The largest number of sorted times falling within any one window, and its bounds."""
    best, start = 0, 0
    best_bounds = (times[0], times[0])
    for end, t in enumerate(times):
        while t - times[start] > window:
            start += 1
        if end - start + 1 > best:
            best = end - start + 1
            best_bounds = (times[start], t)
    return best, *best_bounds


def _deployment_of_events(events) -> dict:
    """Map event id -> Deployment for events about an alert (by object id or details)."""
    alert_ids = {}
    for e in events:
        dep = (e.details or {}).get("deployment_id") or (e.details or {}).get("deployment")
        if dep is not None and str(dep).isdigit():
            alert_ids[e.pk] = ("deployment", int(dep))
        elif e.object_type.lower().endswith("alert") and e.object_id.isdigit():
            alert_ids[e.pk] = ("alert", int(e.object_id))
    alert_dep = dict(
        Alert.objects.filter(
            pk__in=[v for kind, v in alert_ids.values() if kind == "alert"]
        ).values_list("pk", "deployment_id")
    )
    dep_ids = {v if kind == "deployment" else alert_dep.get(v) for kind, v in alert_ids.values()}
    deployments = Deployment.objects.in_bulk([d for d in dep_ids if d])
    result = {}
    for pk, (kind, value) in alert_ids.items():
        dep_id = value if kind == "deployment" else alert_dep.get(value)
        if dep_id in deployments:
            result[pk] = deployments[dep_id]
    return result


# A slice notices an early stop at its next heartbeat (a couple of seconds): alerts this
# close after the actual end of a deployment stopped early are not flagged.
STOP_NOTICE = timedelta(seconds=5)


def live_outside_window(*, since: datetime, until: datetime) -> list[dict]:
    """Deployments that went live, or raised alerts, outside their authorised window.

    Worked out from the record alone (the audit's deployment.live rows and the alerts'
    frame times against each deployment's start, planned end and actual end), not from
    the rule that is meant to prevent it, so a regression in the gate or the stream
    slices shows up here. Nothing should ever be listed.
    """
    label = Deployment._meta.label_lower
    went_live = defaultdict(list)
    for at, object_id in AuditEvent.objects.filter(
        action="deployment.live", object_type=label, at__gte=since, at__lte=until
    ).values_list("at", "object_id"):
        if object_id.isdigit():
            went_live[int(object_id)].append(at)
    # Candidates in the database, the exact window (and the stop tolerance) in Python.
    alert_times = defaultdict(list)
    for dep_id, at in (
        Alert.objects.filter(created_at__gte=since, created_at__lte=until)
        .annotate(ends=Coalesce("deployment__ended_at", "deployment__ends_at"))
        .filter(
            Q(frame_at__lt=F("deployment__starts_at"))
            | Q(frame_at__gt=F("ends"))
            | Q(frame_at__gt=F("deployment__ends_at"))
        )
        .values_list("deployment_id", "frame_at")
    ):
        alert_times[dep_id].append(at)
    flagged = []
    deployments = Deployment.objects.in_bulk(set(went_live) | set(alert_times))
    for pk, d in sorted(deployments.items(), key=lambda kv: kv[1].starts_at):
        start = d.starts_at
        end = d.ends_at if d.ended_at is None else min(d.ends_at, d.ended_at + STOP_NOTICE)
        early_or_late = [at for at in went_live.get(pk, []) if not start <= at < d.ends_at]
        alerts = sorted(at for at in alert_times.get(pk, []) if not start <= at <= end)
        if early_or_late or alerts:
            flagged.append(
                {
                    "deployment": d,
                    "window_start": start,
                    "window_end": d.ends_at,
                    "actual_end": d.ended_at,
                    "went_live_at": min(early_or_late) if early_or_late else None,
                    "alerts_outside": len(alerts),
                    "first_alert": alerts[0] if alerts else None,
                    "last_alert": alerts[-1] if alerts else None,
                }
            )
    return flagged


def audit_flags(*, since=None, until=None, user="") -> dict:
    """Unusual use in a time range: heavy image viewing, weak purposes, out-of-hours alert
    views and repeated denials. Each list holds what a reviewer needs to check it."""
    until = until or timezone.now()
    since = since or until - timedelta(days=FLAG_DEFAULT_DAYS)
    base = audit_events(user=user, since=since, until=until).order_by("seq")
    # Only the two kinds of event the flags look at leave the database.
    reads = [
        e
        for e in base.filter(SENSITIVE_READ_Q, outcome=AuditEvent.OUTCOME_ALLOWED)
        if is_sensitive_read(e.action)
    ]
    denials = base.filter(outcome=AuditEvent.OUTCOME_DENIED).only(
        "at", "actor_username", "object_id", "client_addr"
    )

    per_user = defaultdict(list)
    for e in reads:
        per_user[e.actor_username or "system"].append(e.at)
    heavy = []
    for name, times in sorted(per_user.items()):
        count, first, last = _densest_window(sorted(times), IMAGE_VIEWS_WINDOW)
        if count >= IMAGE_VIEWS_LIMIT:
            heavy.append(
                {"user": name, "count": count, "first": first, "last": last, "total": len(times)}
            )

    weak = []
    for e in reads:
        reason = weak_purpose_reason(e.purpose)
        if reason:
            weak.append({"event": e, "reason": reason})

    grace = timedelta(hours=settings.LFR_WATCHLIST_GRACE_HOURS)
    out_of_hours = []
    deployments = _deployment_of_events(reads)
    for e in reads:
        d = deployments.get(e.pk)
        if d is not None and not (d.starts_at <= e.at <= d.actual_end + grace):
            out_of_hours.append(
                {
                    "event": e,
                    "deployment": d,
                    "window_end": d.actual_end + grace,
                    "when": "before the start" if e.at < d.starts_at else "after the end",
                }
            )

    denied_by = defaultdict(list)
    for e in denials:
        if e.actor_username:
            key = e.actor_username
        else:  # anonymous: failed logins carry the attempted name as the object
            key = f"{e.object_id or '?'} (not logged in, from {e.client_addr or 'unknown'})"
        denied_by[key].append(e.at)
    denied = []
    for name, times in sorted(denied_by.items()):
        count, first, last = _densest_window(sorted(times), DENIED_WINDOW)
        if count >= DENIED_LIMIT:
            denied.append(
                {"user": name, "count": count, "first": first, "last": last, "total": len(times)}
            )

    # Not narrowed to `user`: a deployment running outside its window is nobody's view.
    outside = live_outside_window(since=since, until=until) if not user else []

    return {
        "since": since,
        "until": until,
        "heavy_viewers": heavy,
        "weak_purposes": weak,
        "out_of_hours": out_of_hours,
        "repeated_denials": denied,
        "live_outside_window": outside,
        "total": len(heavy) + len(weak) + len(out_of_hours) + len(denied) + len(outside),
        "rules": {
            "image_views": f"{IMAGE_VIEWS_LIMIT}+ sensitive reads by one user within "
            f"{int(IMAGE_VIEWS_WINDOW.total_seconds() // 60)} minutes",
            "denials": f"{DENIED_LIMIT}+ denied attempts by one user within "
            f"{int(DENIED_WINDOW.total_seconds() // 60)} minutes",
            "grace_hours": settings.LFR_WATCHLIST_GRACE_HOURS,
            "live_outside_window": "went live (audit deployment.live) or raised an alert "
            "before its authorised start or after its end (an early stop's actual end, "
            f"+{int(STOP_NOTICE.total_seconds())} s)",
        },
    }


# --- subject history ------------------------------------------------------------------------


def subject_history(reference: str) -> dict | None:
    """Everything recorded about one subject across apps: entries, alerts and their audit.

    Only oversight can join these: watchlists never import recognition (ARCHITECTURE.md),
    so this is the one place a subject's whole trail can be read.
    """
    from watchlists.models import Subject

    subject = Subject.objects.filter(reference=reference).first()
    alerts = list(
        alert_facts(Alert.objects.filter(subject_reference=reference))
        .select_related("deployment", "deployment__site")
        .defer("crop")
        .order_by("-created_at")[:200]
    )
    if subject is None and not alerts:
        return None
    entries = list(subject.entries.order_by("-submitted_at")) if subject else []
    trail = Q(object_type__iexact="recognition.alert", object_id__in=[str(a.pk) for a in alerts])
    trail |= Q(
        object_type__iexact="watchlists.watchlistentry", object_id__in=[str(e.pk) for e in entries]
    )
    if subject:
        trail |= Q(object_type__iexact="watchlists.subject", object_id=str(subject.pk))
    events = list(AuditEvent.objects.filter(trail).order_by("-seq")[:200])
    return {
        "subject": subject,
        "reference": reference,
        "entries": entries,
        "alerts": alerts,
        "events": events,
    }
