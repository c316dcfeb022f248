"""Reads for deployments: visibility, the calendar and capacity, the watchlist at a
moment, the figures behind the published record, and the public transparency data."""

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import access
from core.exports import iso_time
from core.models import AuditEvent
from core.stats import wilson_interval
from deployments.models import (
    Camera,
    Deployment,
    DeploymentRecord,
    DeploymentWatchlist,
    Site,
    UseCase,
    Walkthrough,
)

# The published record counts alerts by their decision in force and their verifications,
# rules recognition owns: one of the two documented imports of recognition by this app
# (docs/ARCHITECTURE.md).
# The operating point (what a threshold means at a watchlist size, and what the force's
# policy allows) is recognition's measurement: read here, never re-derived.
from recognition.selectors import (  # noqa: F401 (verification_figures: records)
    alert_figures,
    blue_list_sightings,
    decisions_in_force,
    operating_point,
    verification_figures,
)

State = Deployment.State
# States that hold a camera (until the actual end) and a slot in the weekly capacity.
COMMITTED = (State.SUBMITTED, State.AUTHORISED, State.LIVE, State.COMPLETED)

# The Met's published deployment-record field names, in their order: the CSV header and the
# JSON keys are exactly these.
MET_FIELDS = [
    "Deployment Location",
    "Date",
    "Duration",
    "LFR Use Case",
    "Watchlist Size",
    "Min Threshold Setting",
    "Total Alerts",
    "True Alerts Confirmed",
    "True Alerts Unconfirmed",
    "False Alerts Confirmed",
    "False Alerts Unconfirmed",
    "False Alert Rate",
    "Outcome - Arrest",
    "Outcome - Other",
    "No action",
    "Faces seen (estimate)",
]
# Published after the Met's 16, in this order (docs/TRANSPARENCY.md): without them a
# rate over a handful of decided alerts reads as a clean record, and nobody outside can
# tell which deployment, or when, the figures describe.
EXTRA_FIELDS = [
    "Not adjudicated",
    "Not adjudicated share",
    "Record Status",
    "Deployment Reference",
    "Start Time",
    "End Time",
    "Threshold Meaning",
    "Expected False Alert Rate",
    "Advance Notice",
    "Advance Notice Page",
    "Live True Positive Rate",
    "Alert Verification",
    "Verified by Two Officers",
    "Single-verified",
    "Verification Disagreed",
]
# How many officers verified each alert before anyone acted (EU AI Act Art. 14(5)).
VERIFICATION_FIELDS = {
    "Verified by Two Officers": "verified",
    "Single-verified": "single_verified",
    "Verification Disagreed": "disagreed",
}
PUBLISHED_FIELDS = MET_FIELDS + EXTRA_FIELDS
# Our "Min Threshold Setting" is not the Met's similarity score: it is the largest dlib
# face distance that still alerts, so a lower number is stricter.
THRESHOLD_MEANING = "maximum face distance (0-1): lower is stricter"
COUNT_FIELDS = [
    "Watchlist Size",
    "Total Alerts",
    "True Alerts Confirmed",
    "True Alerts Unconfirmed",
    "False Alerts Confirmed",
    "False Alerts Unconfirmed",
    "Outcome - Arrest",
    "Outcome - Other",
    "No action",
    "Faces seen (estimate)",
]


def deployments_visible_to(user):
    """Staff readers see all; an officer sees only the deployments assigned to them."""
    return access.restrict(user, "deployment", "list", Deployment.objects.select_related("site"))


def deployment_get(pk: int):
    return (
        Deployment.objects.select_related("site", "requested_by", "authorised_by")
        .filter(pk=pk)
        .first()
    )


# --- calendar and capacity -------------------------------------------------------------


def iso_week_bounds(year: int, week: int) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00, in the site's local time zone."""
    monday = date.fromisocalendar(year, week, 1)
    start = timezone.make_aware(datetime.combine(monday, time.min))
    return start, start + timedelta(days=7)


def week_capacity_used(*, year: int, week: int, exclude: int | None = None) -> int:
    """Deployments counted against the week's capacity: submitted or further, not refused
    or cancelled, by their start time."""
    start, end = iso_week_bounds(year, week)
    qs = Deployment.objects.filter(
        starts_at__gte=start,
        starts_at__lt=end,
        state__in=COMMITTED,
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.count()


# Until when a deployment holds its cameras: its actual end once it has ended, else the
# planned end (see Deployment.actual_end).
BOOKED_UNTIL = Coalesce("ended_at", "ends_at")


def camera_bookings(*, camera_ids, starts_at: datetime, ends_at: datetime, exclude=None):
    """Committed deployments holding any of these cameras at some moment in
    [starts_at, ends_at): a deployment stopped early is free from its actual end."""
    qs = (
        Deployment.objects.annotate(booked_until=BOOKED_UNTIL)
        .filter(
            state__in=COMMITTED,
            cameras__in=camera_ids,
            starts_at__lt=ends_at,
            booked_until__gt=starts_at,
        )
        .distinct()
    )
    return qs.exclude(pk=exclude) if exclude is not None else qs


def parse_iso_week(value: str | None) -> tuple[int, int]:
    """'2026-W48' → (2026, 48); anything else → this week."""
    try:
        year, week = (value or "").upper().split("-W")
        date.fromisocalendar(int(year), int(week), 1)
        return int(year), int(week)
    except (ValueError, TypeError):
        iso = timezone.localdate().isocalendar()
        return iso[0], iso[1]


def calendar_week(*, user, year: int, week: int) -> dict:
    start, end = iso_week_bounds(year, week)
    qs = (
        deployments_visible_to(user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .order_by("starts_at")
    )
    days = []
    for i in range(7):
        day = (start + timedelta(days=i)).date()
        days.append(
            {
                "date": day,
                "deployments": [d for d in qs if timezone.localtime(d.starts_at).date() == day],
            }
        )
    prev_year, prev_week, _ = (start - timedelta(days=7)).isocalendar()
    next_year, next_week, _ = end.isocalendar()
    return {
        "year": year,
        "week": week,
        "label": f"{year}-W{week:02d}",
        "starts": start.date(),
        "days": days,
        "used": week_capacity_used(year=year, week=week),
        "capacity": settings.LFR_WEEKLY_CAPACITY,
        "prev": f"{prev_year}-W{prev_week:02d}",
        "next": f"{next_year}-W{next_week:02d}",
    }


def deployment_operating_point(deployment: Deployment, *, threshold: float | None = None):
    """The operating point of a plan: its authorised watchlist size at its threshold (or
    at `threshold`, one the authoriser considers), with what the policy allows there."""
    return operating_point(
        watchlist_size=deployment.max_watchlist_size,
        threshold=deployment.threshold if threshold is None else threshold,
    )


def watchlist_of(deployment: Deployment):
    """The frozen snapshot's row (for counts; pages never show its encodings or refs)."""
    return (
        DeploymentWatchlist.objects.filter(deployment=deployment)
        .defer("encodings", "subject_references")
        .first()
    )


def sites_list():
    return Site.objects.order_by("name")


def cameras_list():
    return Camera.objects.select_related("site").order_by("site__name", "name")


# --- the watchlist at a moment ---------------------------------------------------------


def watchlist_candidates(*, deployment: Deployment, at: datetime) -> list:
    from watchlists import selectors as wl

    return wl.snapshot_candidates(
        categories=list(deployment.watchlist_categories),
        include_minors=deployment.include_minors,
        at=at,
        include_test_subjects=deployment.include_test_subjects,
    )


def blue_list_subject_count(*, deployment: Deployment, at: datetime) -> int:
    """Test subjects its snapshot would take (0 unless it opts in to blue-list testing)."""
    from watchlists import selectors as wl

    return wl.blue_list_subject_count(at=at) if deployment.include_test_subjects else 0


def watchlist_counts(*, deployment: Deployment, at: datetime) -> dict:
    from watchlists import selectors as wl

    return wl.counts_by_category(
        categories=list(deployment.watchlist_categories),
        include_minors=deployment.include_minors,
        at=at,
    )


def watchlist_stale_images(*, deployment: Deployment, at: datetime) -> list:
    """Entries it would freeze whose newest reference image is old or undated."""
    from watchlists import selectors as wl

    return wl.stale_image_entries(
        categories=list(deployment.watchlist_categories),
        include_minors=deployment.include_minors,
        at=at,
    )


def activation_refusal_recorded(deployment: Deployment, kind: str = "gate") -> bool:
    """Beat retries every 15 s; one refusal event per deployment and kind is enough
    ("gate": paperwork or authorisation; "window": outside its authorised window)."""
    details = AuditEvent.objects.filter(
        action="deployment.activation_refused",
        object_type=deployment._meta.label_lower,
        object_id=str(deployment.pk),
    ).values_list("details", flat=True)
    # Events written before kinds existed were all gate refusals.
    return any((d or {}).get("kind", "gate") == kind for d in details)


# --- the published record --------------------------------------------------------------

NOT_STATED = "not stated (authorised before the operating point was recorded)"


def expected_false_alert_rate(deployment: Deployment) -> str:
    """What the authorising officer was told the threshold means at the authorised size,
    as recorded in the authorisation's audit row (the evidence may change later; this is
    what the deployment was authorised on)."""
    details = (
        AuditEvent.objects.filter(
            action="deployment.authorise",
            object_type=deployment._meta.label_lower,
            object_id=str(deployment.pk),
        )
        .order_by("-pk")
        .values_list("details", flat=True)
        .first()
    )
    point = (details or {}).get("operating_point")
    if not point:
        return NOT_STATED
    bound = point["fpir_bound"]
    rate = f"1 in {round(1 / bound):,}" if 0 < bound < 1 else f"{bound:.0%}"
    return (
        f"at most {rate} passers-by at threshold {point['threshold']:g} and "
        f"{deployment.max_watchlist_size:,} entries (95 % bound, from {point['source']})"
    )


def decided(fields: dict) -> int:
    """Alerts with an adjudication, from the Met's four kinds (a frozen record says it too)."""
    kinds = (
        "True Alerts Confirmed",
        "True Alerts Unconfirmed",
        "False Alerts Confirmed",
        "False Alerts Unconfirmed",
    )
    return sum(int(fields.get(k) or 0) for k in kinds)


def format_rate(false_alerts: int, adjudicated: int, total: int | None = None) -> str:
    """False alerts over ADJUDICATED alerts, labelled with that base ("0.48% of 2077
    adjudicated"). Undecided alerts are neither true nor false: counting them in the base
    made 0 false of 3 decided (72 undecided) read "0.00%". "n/a" with no alerts at all."""
    if not adjudicated:
        return "n/a (none adjudicated)" if total else "n/a"
    return f"{100 * false_alerts / adjudicated:.2f}% of {adjudicated} adjudicated"


def format_share(part: int, total: int) -> str:
    return f"{100 * part / total:.2f}%" if total else "n/a"


def format_duration(start: datetime, end: datetime) -> str:
    # To the nearest minute: a start at 10:00:01 stopped at 14:00:00 ran "4h 00m".
    minutes = max(0, round((end - start).total_seconds() / 60))
    return f"{minutes // 60}h {minutes % 60:02d}m"


def record_fields(deployment: Deployment) -> dict:
    figures = alert_figures(deployment)
    wl = watchlist_of(deployment)
    start = deployment.started_at or deployment.starts_at
    # The actual end (stopped early, or the scheduled end reached), never the planned one.
    end = deployment.ended_at or deployment.ends_at
    false_alerts = figures["false_confirmed"] + figures["false_unconfirmed"]
    fields = {
        "Deployment Location": deployment.site.name,
        "Date": timezone.localtime(start).date().isoformat(),
        "Duration": format_duration(start, end),
        "LFR Use Case": UseCase(deployment.use_case).label,
        "Watchlist Size": wl.entry_count if wl else 0,
        "Min Threshold Setting": deployment.threshold,
        "Total Alerts": figures["total"],
        "True Alerts Confirmed": figures["true_confirmed"],
        "True Alerts Unconfirmed": figures["true_unconfirmed"],
        "False Alerts Confirmed": figures["false_confirmed"],
        "False Alerts Unconfirmed": figures["false_unconfirmed"],
        "False Alert Rate": format_rate(
            false_alerts, figures["total"] - figures["unadjudicated"], figures["total"]
        ),
        "Outcome - Arrest": figures["arrest"],
        "Outcome - Other": figures["other"],
        "No action": figures["no_action"],
        "Faces seen (estimate)": deployment.faces_seen,
    }
    assert list(fields) == MET_FIELDS
    return fields


# --- blue-list testing ------------------------------------------------------------------

NO_TEST_WALKS = "not measured (no blue-list walk-throughs)"
NOT_RECORDED_GROUP = "Not recorded"


def _detected_by(walk: Walkthrough, sightings: list[dict]) -> int | None:
    """The seq of the first test alert on the walker whose sighting span meets the walk's
    window (on the walk's camera, when one is named); None when the walk went unseen."""
    for s in sightings:
        if s["entry_id"] != walk.entry_id:
            continue
        if walk.camera_id and walk.camera_id not in (s["camera_ids"] or [s["camera_id"]]):
            continue
        last = s["last_seen_at"] or s["frame_at"]
        if s["frame_at"] <= walk.ended_at and last >= walk.started_at:
            return s["seq"]
    return None


def blue_list_frozen(deployment: Deployment) -> list[tuple[int, str]]:
    """(entry id, reference) of the test subjects frozen in, by reference: only the test
    subjects' references (staff volunteers), never an operational entry's."""
    wl = (
        DeploymentWatchlist.objects.filter(deployment=deployment)
        .only("entry_ids", "subject_references", "test_entry_ids")
        .first()
    )
    if wl is None:
        return []
    tests = set(wl.test_entry_ids)
    found = {i: r for i, r in zip(wl.entry_ids, wl.subject_references, strict=True) if i in tests}
    return sorted(found.items(), key=lambda item: item[1])


def walkthroughs(deployment: Deployment) -> list[dict]:
    """Each walk-through with the alert that detected it (or None), in time order."""
    sightings = blue_list_sightings(deployment)
    walks = deployment.walkthroughs.select_related("camera", "recorded_by")
    return [{"walk": w, "detected_by": _detected_by(w, sightings)} for w in walks]


def blue_list(deployment: Deployment) -> dict:
    """The live true-positive rate measured by walk-throughs, with its 95 % Wilson
    interval: the one live accuracy figure a force can publish honestly (a watchlist
    subject who walked by unseen is otherwise never known). {} with no walk recorded."""
    rows = walkthroughs(deployment)
    if not rows:
        return {}
    return {**_recall(rows), "by_group": recall_by_group(rows)}


def _recall(rows: list[dict]) -> dict:
    n = len(rows)
    detected = sum(1 for r in rows if r["detected_by"] is not None)
    low, high = wilson_interval(detected, n)
    return {
        "walks": n,
        "detected": detected,
        "tpr": round(detected / n, 4),
        "ci_low": round(low, 4),
        "ci_high": round(high, 4),
    }


def recall_by_group(rows: list[dict]) -> list[dict]:
    """Walk-throughs detected per perceived group of the walker, each with its 95 % Wilson
    interval (overlapping intervals: no difference shown at this sample size)."""
    groups = defaultdict(list)
    for row in rows:
        groups[row["walk"].perceived_group or NOT_RECORDED_GROUP].append(row)
    order = [*settings.LFR_EQUALITY_GROUPS, NOT_RECORDED_GROUP]
    return [
        {"group": g, **_recall(groups[g])}
        for g in sorted(groups, key=lambda g: order.index(g) if g in order else len(order))
    ]


def format_tpr(blue: dict) -> str:
    """ "7 of 8 walk-throughs detected (87.5 %; 95 % CI 52.9-97.8 %)", or "" with none."""
    if not blue:
        return ""
    return (
        f"{blue['detected']} of {blue['walks']} walk-throughs detected "
        f"({100 * blue['tpr']:.1f} %; 95 % CI {100 * blue['ci_low']:.1f}-"
        f"{100 * blue['ci_high']:.1f} %)"
    )


def record_status(record: DeploymentRecord) -> str:
    """What a reader may rely on: "provisional" until command staff's review, and the
    undecided count whenever there is one."""
    total = int(record.fields.get("Total Alerts") or 0)
    undecided = f"{record.not_adjudicated} of {total} alerts not adjudicated"
    if record.signed_off_at:
        status = "signed off"
    elif record.reviewed_at:
        status = "reviewed, not yet signed off"
    else:
        status = "provisional: not yet reviewed"
    return f"{status}; {undecided}" if record.not_adjudicated else status


def _local(moment: datetime | None) -> str:
    # The Met publishes minutes; ISO 8601 with the offset so no reader guesses the zone.
    return iso_time(moment, timespec="minutes") or ""


# --- the notification of each use (EU AI Act Art. 5(4)) --------------------------------

# What the notice never carries: sensitive operational data stays with the force.
NOTICE_LEAVES_OUT = [
    "watchlist entries, subjects, images and their references",
    "alerts, matches and decisions",
    "officers assigned",
    "camera addresses",
    "the necessity, proportionality and location case",
]


def _iso(moment: datetime | None) -> str | None:
    return iso_time(moment, timespec="seconds")


def use_notice(d: Deployment) -> dict:
    """The notice of one use for the market-surveillance and data-protection authorities:
    what, where, when, under which authority and assessments; counts, never content."""
    from django.urls import reverse

    wl = watchlist_of(d)
    by = d.authorised_by
    return {
        "notice": "Use of real-time remote biometric identification (EU AI Act Art. 5(4))",
        "deployment_reference": d.reference,
        "state": d.state,
        "use_case": d.use_case,
        "use_case_label": UseCase(d.use_case).label,
        "place": {"site": d.site.name, "address": d.site.address},
        "authorised_window": {"starts_at": _iso(d.starts_at), "ends_at": _iso(d.ends_at)},
        "actual": {"started_at": _iso(d.started_at), "ended_at": _iso(d.ended_at)},
        "authorisation": {
            "authorised_at": _iso(d.authorised_at),
            "authorised_by": (by.get_full_name() or by.get_username()) if by else None,
            "urgent_start": d.urgent,
        },
        "assessments": {
            "dpia": d.dpia_reference,
            "appropriate_policy_document": d.policy_reference,
            "equality_impact_assessment": d.equality_reference,
        },
        "cameras": d.cameras.count(),
        "match_threshold": d.threshold,
        "threshold_meaning": THRESHOLD_MEANING,
        "watchlist_categories": list(d.watchlist_categories),
        "watchlist_size": wl.entry_count if wl else None,
        "advance_public_notice": d.public_notice,
        "published_record": (
            reverse("transparency:index") + f"#{d.reference}"
            if d.state == State.COMPLETED
            else None
        ),
        "leaves_out": NOTICE_LEAVES_OUT,
        "generated_at": _iso(timezone.now()),
    }


def notices_sent(d: Deployment) -> list[dict]:
    """Who sent the notice, when, to whom: read back from the audit chain."""
    events = AuditEvent.objects.filter(
        action="deployment.notice_sent",
        object_type=d._meta.label_lower,
        object_id=str(d.pk),
        outcome=AuditEvent.OUTCOME_ALLOWED,
    ).order_by("seq")
    return [
        {
            "authority": e.details.get("authority", ""),
            "authority_kind": e.details.get("authority_kind", ""),
            "reference": e.details.get("reference", ""),
            "sent_by": e.actor_username,
            "sent_at": _iso(e.at),
            "notice_sha256": e.details.get("notice_sha256", ""),
        }
        for e in events
    ]


# --- transparency (public: nothing personal) -------------------------------------------


def published_records():
    return (
        DeploymentRecord.objects.filter(deployment__state=State.COMPLETED)
        .select_related("deployment", "deployment__site")
        .order_by("-deployment__starts_at")
    )


def published_row(record: DeploymentRecord) -> dict:
    """Keys exactly PUBLISHED_FIELDS: the Met's 16 in their order, then EXTRA_FIELDS."""
    d = record.deployment
    total = int(record.fields.get("Total Alerts") or 0)
    return {
        **{k: record.fields.get(k, "") for k in MET_FIELDS},
        "Not adjudicated": record.not_adjudicated,
        "Not adjudicated share": format_share(record.not_adjudicated, total),
        "Record Status": record_status(record),
        "Deployment Reference": d.reference,
        "Start Time": _local(d.started_at or d.starts_at),
        "End Time": _local(d.ended_at),
        "Threshold Meaning": THRESHOLD_MEANING,
        "Expected False Alert Rate": expected_false_alert_rate(d),
        "Advance Notice": advance_notice(d),
        "Advance Notice Page": notice_anchor(d) if d.public_notice else "",
        "Live True Positive Rate": format_tpr(record.blue_list) or NO_TEST_WALKS,
        "Alert Verification": "two officers" if d.verification == "two" else "one officer",
        **{k: int(record.verification.get(v) or 0) for k, v in VERIFICATION_FIELDS.items()},
    }


def published_rows() -> list[dict]:
    """One dict per completed deployment (see published_row)."""
    return [published_row(r) for r in published_records()]


def notice_lead() -> timedelta:
    return timedelta(days=settings.LFR_PUBLIC_NOTICE_LEAD_DAYS)


def notice_published_from(d: Deployment) -> datetime:
    """When the advance notice appears: the lead time before the start, or the
    authorisation if that came later (nothing is announced before it is authorised)."""
    return max(d.starts_at - notice_lead(), d.authorised_at or d.starts_at - notice_lead())


def upcoming_notices(now: datetime | None = None):
    """Authorised or live deployments starting within the lead time, announced in advance.
    Left out: those the authorising officer let run without notice (public_notice false,
    with its reason, audited at authorisation or by deployment_notice_withhold)."""
    now = now or timezone.now()
    return (
        Deployment.objects.filter(
            public_notice=True,
            state__in=(State.AUTHORISED, State.LIVE),
            ends_at__gt=now,
            starts_at__lte=now + notice_lead(),
        )
        .select_related("site")
        .order_by("starts_at")
    )


def past_notices():
    """Completed deployments that were announced: what their published records link to."""
    return (
        Deployment.objects.filter(public_notice=True, state=State.COMPLETED)
        .select_related("site")
        .order_by("-starts_at")
    )


def notice_anchor(d: Deployment) -> str:
    from django.urls import reverse

    return f"{reverse('transparency:notices')}#{d.reference}"


def notice_shortfall(d: Deployment, *, at: datetime) -> timedelta | None:
    """The advance notice `d` gets if authorised `at`, when shorter than the lead
    (LFR_PUBLIC_NOTICE_LEAD_DAYS); None when the lead is met, or none is asked or given."""
    lead = notice_lead()
    if not lead or not d.public_notice:
        return None
    given = d.starts_at - at
    return max(given, timedelta(0)) if given < lead else None


def duration_words(span: timedelta) -> str:
    """ "3 minutes", "7 days", "6 days, 23 hours": the two largest units, never "1 week"."""
    seconds, parts = max(int(span.total_seconds()), 0), []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        n, seconds = divmod(seconds, size)
        if n or parts:
            parts.append(f"{n} {unit}{'' if n == 1 else 's'}")
    said = [p for p in parts[:2] if not p.startswith("0 ")]
    return ", ".join(said) or "less than a minute"


def advance_notice(d: Deployment) -> str:
    """What the published record says of the advance notice: the lead actually given, or
    why there was none (never the reason itself: it may say what the operation is about)."""
    if not d.public_notice:
        return "withheld with the authorising officer's recorded reason"
    start = d.started_at or d.starts_at
    if d.authorised_at and d.authorised_at >= start:
        return "none: authorised after the start (urgent)"
    given = start - notice_published_from(d)
    said = f"{duration_words(given)} before the start"
    if given < notice_lead():
        lead = duration_words(notice_lead())
        said += f" ({lead} asked; the authorising officer recorded why it was shorter)"
    return said


def yearly_summary() -> list[dict]:
    years: dict[str, dict] = {}
    for row in published_rows():
        year = str(row["Date"])[:4]
        totals = years.setdefault(
            year,
            {
                "Year": year,
                "Deployments": 0,
                "Provisional records": 0,
                **dict.fromkeys([*COUNT_FIELDS, "Not adjudicated", *VERIFICATION_FIELDS], 0),
            },
        )
        totals["Deployments"] += 1
        totals["Provisional records"] += row["Record Status"].startswith("provisional")
        for key in [*COUNT_FIELDS, "Not adjudicated", *VERIFICATION_FIELDS]:
            totals[key] += int(row[key] or 0)
    for totals in years.values():
        false_alerts = totals["False Alerts Confirmed"] + totals["False Alerts Unconfirmed"]
        total = totals["Total Alerts"]
        totals["False Alert Rate"] = format_rate(false_alerts, decided(totals), total)
        totals["Not adjudicated share"] = format_share(totals["Not adjudicated"], total)
    return sorted(years.values(), key=lambda t: t["Year"], reverse=True)


def deployments_needing_attention(user):
    """For the list page: what this user is expected to act on."""
    qs = deployments_visible_to(user)
    # Whoever may take the next step: authorise, sign off, or review.
    if access.can(user, "deployment", "authorise"):
        return qs.filter(state=State.SUBMITTED).exclude(requested_by=user)
    if access.can(user, "deployment", "signoff"):
        return qs.filter(Q(record__reviewed_at__isnull=False, record__signed_off_at__isnull=True))
    if access.can(user, "deployment", "review"):
        return qs.filter(state=State.COMPLETED, record__reviewed_at__isnull=True)
    return qs.none()


# --- what waits (the home page and navigation badges, through core.work) ---------------


def deployment_versions(d: Deployment) -> list[Deployment]:
    """Every version of a plan, oldest first: the refused plans it revises, then itself
    and its own revision, if any (each refusal stays on its own version)."""
    first = d
    while first.revises_id is not None:
        first = Deployment.objects.get(pk=first.revises_id)
    versions = [first]
    while (nxt := Deployment.objects.filter(revises=versions[-1]).first()) is not None:
        versions.append(nxt)
    return versions


def deployment_window(d: Deployment) -> str:
    """ "2026-12-01 21:48 – 2026-12-02 09:48": the second date only when it is another day."""
    from core.templatetags.lfr_time import window

    return window(d.starts_at, d.ends_at)


# The cards' labels when the count is 1.
SINGULAR = {
    "urgent deployments are live and wait for your authorisation": (
        "urgent deployment is live and waits for your authorisation"
    ),
    "deployments wait for your authorisation": "deployment waits for your authorisation",
    "of your drafts are not yet submitted": "of your drafts is not yet submitted",
    "of your requests were refused: read why": "of your requests was refused: read why",
    "finished deployments wait for their post-deployment review": (
        "finished deployment waits for its post-deployment review"
    ),
    "reviewed records wait for your sign-off": "reviewed record waits for your sign-off",
    "deployments you are assigned to are live now": "deployment you are assigned to is live now",
    "authorised deployments you are assigned to are coming up": (
        "authorised deployment you are assigned to is coming up"
    ),
}


def waiting_for(user) -> list:
    from django.urls import reverse

    from core.work import FIRST_ITEMS, Waiting

    def card(key, label, qs, url_name, *, nav="deployments:calendar", urgent=False, url=""):
        return Waiting(
            key=key,
            label=label,
            one=SINGULAR.get(label, ""),
            count=qs.count(),
            url=url or reverse("deployments:list"),
            nav=nav,
            urgent=urgent,
            items=[
                (
                    f"{d.reference} at {d.site.name}, {deployment_window(d)}",
                    reverse(url_name, args=[d.pk]),
                )
                for d in qs[:FIRST_ITEMS]
            ],
        )

    visible = deployments_visible_to(user).order_by("starts_at", "pk")
    found = []
    if access.can(user, "deployment", "authorise"):
        theirs = visible.exclude(requested_by=user)
        found.append(
            card(
                "deployment.urgent_authorise",
                "urgent deployments are live and wait for your authorisation",
                theirs.filter(state=State.LIVE, urgent=True, authorised_at__isnull=True),
                "deployments:authorise",
                urgent=True,
            )
        )
        found.append(
            card(
                "deployment.authorise",
                "deployments wait for your authorisation",
                theirs.filter(state=State.SUBMITTED),
                "deployments:authorise",
            )
        )
    if access.can(user, "deployment", "create"):
        mine = visible.filter(requested_by=user)
        found.append(
            card(
                "deployment.drafts",
                "of your drafts are not yet submitted",
                mine.filter(state=State.DRAFT),
                "deployments:detail",
            )
        )
        found.append(
            card(
                "deployment.refused",
                "of your requests were refused: read why",
                mine.filter(state=State.REFUSED, starts_at__gte=timezone.now()),
                "deployments:detail",
            )
        )
    if access.can(user, "deployment", "review"):
        found.append(
            card(
                "deployment.review",
                "finished deployments wait for their post-deployment review",
                visible.filter(state=State.COMPLETED, record__reviewed_at__isnull=True),
                "deployments:record",
            )
        )
    if access.can(user, "deployment", "signoff"):
        found.append(
            card(
                "deployment.signoff",
                "reviewed records wait for your sign-off",
                visible.filter(
                    record__reviewed_at__isnull=False, record__signed_off_at__isnull=True
                ),
                "deployments:record",
            )
        )
    if access.can(user, "console", "list") and not access.can(user, "deployment", "browse"):
        # An officer: their deployments, reached through the console.
        assigned = visible.filter(officers=user)
        found.append(
            card(
                "deployment.assigned_live",
                "deployments you are assigned to are live now",
                assigned.filter(state=State.LIVE),
                "recognition:console",
                # No badge: the Live alerts badge counts alerts to decide, one kind only.
                nav="",
                urgent=True,
                url=reverse("recognition:consoles"),
            )
        )
        found.append(
            card(
                "deployment.assigned_upcoming",
                "authorised deployments you are assigned to are coming up",
                assigned.filter(state=State.AUTHORISED),
                "recognition:console",
                nav="",
                url=reverse("recognition:consoles"),
            )
        )
    return found


# --- the annual report (public: computed from the published records only) --------------

NOT_RECORDED = "Not recorded"


def record_breakdown(deployment: Deployment) -> dict:
    """What the annual report needs beyond the Met's fields, frozen with the record:
    arrests by the matched entry's watchlist category, and decided and false alerts by
    perceived group. Counted by the same decisions in force as the record's fields."""
    from watchlists.models import Category, WatchlistEntry

    rows = list(
        decisions_in_force()
        .filter(alert__deployment=deployment)
        .values_list("is_true_match", "outcome", "perceived_group", "alert__entry_id")
    )
    categories = dict(
        WatchlistEntry.objects.filter(pk__in={r[3] for r in rows}).values_list("pk", "category")
    )
    arrests, groups = Counter(), defaultdict(lambda: {"decided": 0, "false": 0})
    for is_true, outcome, group, entry_id in rows:
        if outcome == "arrest":
            category = categories.get(entry_id)
            arrests[category if category in Category.values else NOT_RECORDED] += 1
        counts = groups[group or NOT_RECORDED]
        counts["decided"] += 1
        counts["false"] += 0 if is_true else 1
    return {"arrests_by_category": dict(arrests), "by_group": dict(groups)}
