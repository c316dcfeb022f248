"""The audit explorer, and the flags for unusual use it raises for a human reviewer."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, TextField
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from core.models import AuditEvent
from deployments.models import Deployment
from recognition.models import Alert


def audit_events(
    *, q="", user="", action="", object_type="", object_id="", outcome="", since=None, until=None
):
    """The audit log filtered as the explorer's form asks; newest first.

    `q` is free text: every word must appear (any case) in the user, action, object type
    or id, purpose, request id or the details.
    """
    qs = AuditEvent.objects.all()
    if q:
        qs = qs.annotate(details_text=Cast("details", TextField()))
        for word in q.split()[:10]:
            qs = qs.filter(
                Q(actor_username__icontains=word)
                | Q(action__icontains=word)
                | Q(object_type__icontains=word)
                | Q(object_id__icontains=word)
                | Q(purpose__icontains=word)
                | Q(request_id__icontains=word)
                | Q(details_text__icontains=word)
            )
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


# Decisions on an entry: reading its images to take one is the work, not a misuse.
ENTRY_DECISIONS = ("watchlist.entry_approve", "watchlist.entry_reject")


def reads_beyond_the_work(reads, base) -> list[tuple[str, object]]:
    """(user, time) of the sensitive reads the heavy-viewing flag counts. Left out: a
    manager's reads of an entry's images in the window before they decided it (reading
    to decide is the work; reading it again afterwards is not), and repeats: a read of one
    object for one purpose counts once however often the page showing it was loaded."""
    decided: dict[tuple[str, str], object] = {}
    for name, entry_id, at in base.filter(action__in=ENTRY_DECISIONS).values_list(
        "actor_username", "object_id", "at"
    ):
        decided[(name, entry_id)] = at
    seen, counted = set(), []
    for e in reads:
        name = e.actor_username or "system"
        decision = decided.get((name, str((e.details or {}).get("entry", ""))))
        if decision is not None and e.at <= decision <= e.at + IMAGE_VIEWS_WINDOW:
            continue
        key = (name, e.action, e.object_type, e.object_id, e.purpose)
        if e.object_id and key in seen:
            continue
        seen.add(key)
        counted.append((name, e.at))
    return counted


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
    for name, at in reads_beyond_the_work(reads, base):
        per_user[name].append(at)
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
            f"{int(IMAGE_VIEWS_WINDOW.total_seconds() // 60)} minutes (each object once per "
            "purpose; a manager's reads of an entry in the hour before deciding it are the work, "
            "not counted)",
            "denials": f"{DENIED_LIMIT}+ denied attempts by one user within "
            f"{int(DENIED_WINDOW.total_seconds() // 60)} minutes",
            "grace_hours": settings.LFR_WATCHLIST_GRACE_HOURS,
            "live_outside_window": "went live (audit deployment.live) or raised an alert "
            "before its authorised start or after its end (an early stop's actual end, "
            f"+{int(STOP_NOTICE.total_seconds())} s)",
        },
    }
