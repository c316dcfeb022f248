"""Recognition's reads: stream status, and the decision in force on each alert."""

from collections import Counter

from django.utils import timezone

from recognition.health import deployment_camera_health
from recognition.models import Adjudication, Alert, Verification


def decisions_in_force():
    """Each decided alert's decision in force: the end of its chain of corrections.

    A decision is recorded once and a correction is a new row pointing at the decision it
    corrects (at most one correction each), so every decided alert has exactly one
    decision that nothing corrects. The console, the published record and the oversight
    reports all count alerts by it.
    """
    return Adjudication.objects.filter(corrected_by__isnull=True)


def match_wording(distance: float, threshold: float) -> str:
    """A match on one scale: its face distance and the distance it alerts at ("distance
    0.462 — alerts at ≤ 0.55"); lower is closer. No "score" beside it on another scale
    (1 - distance read as below the threshold to officers)."""
    return f"distance {distance:.3f} — alerts at ≤ {threshold:g}"


# --- two-person verification (EU AI Act Art. 14(5)) -----------------------------------

VERIFIERS_NEEDED = 2


class VerificationState:
    """Where an alert of a two-person deployment stands; the one place that derives it."""

    AWAITING_FIRST = "awaiting_first"
    AWAITING_SECOND = "awaiting_second"
    VERIFIED = "verified"  # two officers, both "true match": engage
    FALSE_MATCH = "false_match"  # two officers, both "false match"
    DISAGREED = "disagreed"  # two officers, one each way: not verified

    ALL = (AWAITING_FIRST, AWAITING_SECOND, VERIFIED, FALSE_MATCH, DISAGREED)
    COMPLETE = (VERIFIED, FALSE_MATCH, DISAGREED)


def verification_state(rows) -> str:
    """The state from the alert's verifications (at most VERIFIERS_NEEDED, oldest first)."""
    rows = list(rows)[:VERIFIERS_NEEDED]
    if len(rows) < VERIFIERS_NEEDED:
        return (VerificationState.AWAITING_FIRST, VerificationState.AWAITING_SECOND)[len(rows)]
    says = {r.is_true_match for r in rows}
    if says == {True}:
        return VerificationState.VERIFIED
    return VerificationState.FALSE_MATCH if says == {False} else VerificationState.DISAGREED


def verification_rows(alert) -> list:
    """The alert's verifications, from console_alerts()' prefetch when there is one."""
    rows = getattr(alert, "verification_rows", None)
    if rows is None:
        rows = list(alert.verifications.select_related("by").order_by("at", "pk"))
    return rows


def _verification_label(state: str, mine) -> str:
    if state == VerificationState.VERIFIED:
        return "Verified by two officers — engage"
    if state == VerificationState.DISAGREED:
        return "Verifiers disagree — not verified: do not act on this alert"
    if state == VerificationState.FALSE_MATCH:
        return "Both verifiers: false match — do not act on this alert"
    if mine is not None:
        said = "true match" if mine.is_true_match else "false match"
        return f"You verified: {said} — waiting for a second, different officer"
    if state == VerificationState.AWAITING_SECOND:
        return (
            "Awaiting second verification — one officer has verified; record yours "
            "(theirs stays hidden until you do)"
        )
    return "Awaiting verification by two officers — do not act yet"


def verification_view(alert, viewer) -> dict | None:
    """The alert's verification as `viewer` may see it; None on a one-person deployment.

    Independence: until both verifications are recorded, nobody sees what the other
    officer decided, nor who they are — only their own decision and how many there are.
    A reader who never verifies (oversight) is told the same: the console they watch may
    be shown to an officer standing beside them.
    """
    from deployments.models import Deployment

    if alert.deployment.verification != Deployment.Verification.TWO:
        return None
    rows = verification_rows(alert)
    state = verification_state(rows)
    viewer_pk = getattr(viewer, "pk", None)
    mine = next((r for r in rows if viewer_pk is not None and r.by_id == viewer_pk), None)
    complete = state in VerificationState.COMPLETE

    def row(r) -> dict:
        return {
            "by": r.by.get_username(),
            "at": r.at.isoformat(),
            "is_true_match": r.is_true_match,
            "note": r.note,
        }

    return {
        "required": VERIFIERS_NEEDED,
        "state": state,
        "label": _verification_label(state, mine),
        "count": min(len(rows), VERIFIERS_NEEDED),
        "mine": row(mine) if mine is not None else None,
        "verifications": [row(r) for r in rows[:VERIFIERS_NEEDED]] if complete else [],
        # The console's cursor (like a decision's id): says a card changed, not how.
        "cursor": max((r.pk for r in rows), default=0),
    }


def verification_kind(*, two_person: bool, checks: int, true_checks: int, decided_true) -> str:
    """How one alert was verified, for counting: "verified" (two officers, both true),
    "single_verified" (judged a true match by one officer only: a one-person deployment's
    true decision in force, or a two-person alert still awaiting its second verifier),
    "disagreed" (two officers, one each way: not verified), or "" for anything else."""
    if not two_person:
        return "single_verified" if decided_true else ""
    if checks >= VERIFIERS_NEEDED:
        if true_checks >= VERIFIERS_NEEDED:
            return "verified"
        return "disagreed" if true_checks else ""
    return "single_verified" if checks == 1 and true_checks == 1 else ""


def verification_counts(alerts):
    """`alerts` annotated with `checks` and `true_checks` (their verifications)."""
    from django.db.models import Count, OuterRef, Q, Subquery
    from django.db.models.functions import Coalesce

    counted = (
        Verification.objects.filter(alert=OuterRef("pk"))
        .order_by()
        .values("alert")
        .annotate(n=Count("pk"), t=Count("pk", filter=Q(is_true_match=True)))
    )
    return alerts.annotate(
        checks=Coalesce(Subquery(counted.values("n")[:1]), 0),
        true_checks=Coalesce(Subquery(counted.values("t")[:1]), 0),
    )


def verification_figures(deployment) -> dict:
    """The deployment's alerts counted by verification_kind (the published record)."""
    from django.db.models import OuterRef, Subquery

    from deployments.models import Deployment

    latest = decisions_in_force().filter(alert=OuterRef("pk")).order_by("-pk")
    alerts = verification_counts(Alert.objects.filter(deployment=deployment)).annotate(
        decided_true=Subquery(latest.values("is_true_match")[:1])
    )
    two = deployment.verification == Deployment.Verification.TWO
    kinds = Counter(
        verification_kind(two_person=two, checks=c, true_checks=t, decided_true=d)
        for c, t, d in alerts.values_list("checks", "true_checks", "decided_true")
    )
    return {k: kinds[k] for k in ("verified", "single_verified", "disagreed")}


def alert_figures(deployment) -> dict:
    """The deployment's alerts counted by their decision in force (the published record)."""
    # Blue-list test alerts (staff volunteers) are measured by their walk-throughs
    # (deployments.selectors.blue_list), never counted as operational alerts.
    total = Alert.objects.filter(deployment=deployment, is_test=False).count()
    kinds, outcomes = Counter(), Counter()
    decisions = decisions_in_force().filter(alert__deployment=deployment, alert__is_test=False)
    for is_true, confirmed, outcome in decisions.values_list(
        "is_true_match", "confirmed", "outcome"
    ):
        kinds[(is_true, confirmed)] += 1
        outcomes[outcome] += 1
    return {
        "total": total,
        "true_confirmed": kinds[(True, True)],
        "true_unconfirmed": kinds[(True, False)],
        "false_confirmed": kinds[(False, True)],
        "false_unconfirmed": kinds[(False, False)],
        "arrest": outcomes["arrest"],
        "other": outcomes["other"],
        "no_action": outcomes["no_action"],
        "unadjudicated": total - sum(kinds.values()),
    }


def alert_verifiers(alert_ids) -> dict[int, list[str]]:
    """Who verified each alert (EU AI Act Art. 12(3)(d)): the usernames of the officers who
    verified it separately (two-person deployments, Art. 14(5)) and of those who recorded
    its decisions and corrections, in the order they acted, each once."""
    ids = list(alert_ids)
    acts = [
        *Verification.objects.filter(alert_id__in=ids).values_list(
            "at", "alert_id", "by__username"
        ),
        *Adjudication.objects.filter(alert_id__in=ids).values_list(
            "at", "alert_id", "by__username"
        ),
    ]
    found: dict[int, list[str]] = {}
    for _at, alert_id, username in sorted(acts, key=lambda act: act[0]):
        names = found.setdefault(alert_id, [])
        if username not in names:
            names.append(username)
    return found


def blue_list_sightings(deployment) -> list[dict]:
    """The deployment's blue-list test alerts, as a walk-through is scored against them:
    subject entry, sighting span and cameras (no crop, no distance)."""
    return list(
        Alert.objects.filter(deployment=deployment, is_test=True)
        .order_by("seq")
        .values("seq", "entry_id", "frame_at", "last_seen_at", "camera_ids", "camera_id")
    )


def camera_status(deployment, *, now=None) -> list[dict]:
    """One row per camera of the deployment: how its stream is doing right now.

    The reading is `recognition.health.camera_health` (state, fps, dropped frames,
    latency, last frame age, reconnects, last error). fps_in counts frames read from the
    source; fps_processed counts frames the detector examined (one in
    PipelineConfig.detect_every: the tracker carries the others).
    """
    return deployment_camera_health(deployment, now=now or timezone.now())


# --- what waits (the home page and navigation badges, through core.work) ---------------


def waiting_for(user) -> list:
    """Alerts the officer must still decide, per deployment they are assigned to."""
    from django.db.models import Count
    from django.urls import reverse

    from core import access
    from core.work import FIRST_ITEMS, Waiting
    from deployments.models import Deployment

    if not access.can(user, "console", "list"):
        return []
    undecided = (
        Deployment.objects.filter(officers=user)
        .filter(alerts__adjudications__isnull=True, alerts__is_test=False)
        .annotate(n=Count("alerts", distinct=True))
        .order_by("-n", "pk")
    )
    rows = [d for d in undecided if access.can(user, "deployment", "adjudicate", d)]
    return [
        Waiting(
            key="alert.undecided",
            label="alerts wait for your decision",
            one="alert waits for your decision",
            count=sum(d.n for d in rows),
            url=reverse("recognition:consoles"),
            nav="recognition:consoles",
            urgent=any(d.state == Deployment.State.LIVE for d in rows),
            items=[
                (f"{d.n} on {d.reference}", reverse("recognition:console", args=[d.pk]))
                for d in rows[:FIRST_ITEMS]
            ],
            listed=len(rows),
        ),
        *_second_verifier_wanted(user),
    ]


def _second_verifier_wanted(user) -> list:
    """Alerts of the officer's two-person deployments that another officer has verified
    and that wait for a second: theirs to verify. No badge of its own (these alerts are
    counted under "wait for your decision" already)."""
    from django.db.models import Count
    from django.urls import reverse

    from core import access
    from core.work import FIRST_ITEMS, Waiting
    from deployments.models import Deployment

    alerts = (
        Alert.objects.filter(
            deployment__officers=user,
            deployment__verification=Deployment.Verification.TWO,
            adjudications__isnull=True,
        )
        .annotate(n=Count("verifications", distinct=True))
        .filter(n=1)
        .exclude(verifications__by=user)
    )
    per = Counter(alerts.values_list("deployment_id", flat=True))
    rows = [
        d
        for d in Deployment.objects.filter(pk__in=per).order_by("pk")
        if access.can(user, "deployment", "adjudicate", d)
    ]
    if not rows:
        return []
    return [
        Waiting(
            key="alert.second_verification",
            label="alerts wait for a second verifier: you",
            one="alert waits for a second verifier: you",
            count=sum(per[d.pk] for d in rows),
            url=reverse("recognition:consoles"),
            urgent=any(d.state == Deployment.State.LIVE for d in rows),
            items=[
                (f"{per[d.pk]} on {d.reference}", reverse("recognition:console", args=[d.pk]))
                for d in rows[:FIRST_ITEMS]
            ],
            listed=len(rows),
        )
    ]


# --- the operating point (1:N) --------------------------------------------------------


def identification_runs():
    """Stored 1:N evaluations of the engine, newest first."""
    from recognition.models import EvaluationRun

    return EvaluationRun.objects.filter(kind=EvaluationRun.Kind.IDENTIFICATION).order_by(
        "-created_at", "-pk"
    )


def largest_authorised_watchlist(default: int = 1_000) -> int:
    """The largest watchlist size authorised for a deployment still to run or running."""
    from django.db.models import Max

    from deployments.models import Deployment

    S = Deployment.State
    found = Deployment.objects.filter(state__in=(S.AUTHORISED, S.LIVE)).aggregate(
        n=Max("max_watchlist_size")
    )["n"]
    return found or default


def operating_point(*, watchlist_size: int, threshold: float | None = None) -> dict:
    """What a threshold means for a watchlist of this size, and what the policy allows,
    from the latest stored 1:N evaluation (or the engine's default calibration when none
    is stored, saying so). Pages, API and the authorisation gate all read this."""
    from recognition.engine import identification as ident

    run = identification_runs().first()
    if run is None:
        return operating_point_from_rows(
            ident.default_calibration_rows(),
            watchlist_size=watchlist_size,
            threshold=threshold,
            source="the default calibration: no 1:N evaluation is stored",
        )
    people = (run.summary or {}).get("identities")
    point = operating_point_from_rows(
        run.thresholds,
        watchlist_size=watchlist_size,
        threshold=threshold,
        source=f"evaluation run {run.pk}" + (f" on {people:,} people" if people else ""),
    )
    point["run_id"] = run.pk
    return point


def operating_point_from_rows(
    rows: list[dict], *, watchlist_size: int, source: str, threshold: float | None = None
) -> dict:
    """The loosest threshold whose 95 % upper bound on the share of passers-by raising a
    false alert, 1 - (1 - FMR_upper)^N, meets the force's policy (LFR_MAX_FALSE_ALERT_RATE),
    the recognition expected there, and the same figures at `threshold` (the planned or
    authorised one; by default the policy's, else LFR_THRESHOLD_DEFAULT)."""
    from django.conf import settings

    from recognition.engine import identification as ident

    policy = settings.LFR_MAX_FALSE_ALERT_RATE
    chosen = (
        ident.choose_operating_point(
            rows, watchlist_size=watchlist_size, max_false_alert_rate=policy
        )
        if policy
        else None
    )
    policy_threshold = chosen["threshold"] if chosen else None
    if threshold is None:
        threshold = (
            policy_threshold if policy_threshold is not None else settings.LFR_THRESHOLD_DEFAULT
        )
    at = ident.figures_at(rows, threshold, watchlist_size)
    point = {
        "watchlist_size": watchlist_size,
        "threshold": threshold,
        "fpir_bound": at["fpir_bound"],
        "tpir": at["tpir"],
        "policy": policy,
        "policy_threshold": policy_threshold,
        "policy_tpir": chosen.get("tpir") if chosen else None,
        "supported": None if not policy else chosen is not None,
        "within_policy": None if not policy else at["fpir_bound"] <= policy,
        "run_id": None,
        "source": source,
    }
    point["words"] = operating_point_words(point)
    return point


def _one_in(rate: float) -> str:
    if rate <= 0:
        return "no false alert"
    if rate >= 0.5:
        return f"up to {rate:.0%} of passers-by could raise a false alert"
    count = 1 / rate
    digits = max(0, len(str(int(count))) - 2)
    return f"at most 1 false alert per {round(count, -digits):,.0f} faces"


def operating_point_words(point: dict) -> str:
    """The operating point in one sentence, for an authorising officer."""
    tpir = point["tpir"]
    recognised = (
        f"about {tpir:.0%} of watchlisted people recognised"
        if tpir is not None
        else "recognition not measured at this threshold"
    )
    text = (
        f"At {point['watchlist_size']:,} entries and threshold {point['threshold']:g}: "
        f"{_one_in(point['fpir_bound'])} (95 % bound, from {point['source']}); {recognised}."
    )
    if point["policy"]:
        limit = f"1 in {round(1 / point['policy']):,}"
        if point["supported"]:
            text += (
                f" The policy (at most {limit} passers-by) allows thresholds up to "
                f"{point['policy_threshold']:g} at this size."
            )
        else:
            text += (
                f" The policy (at most {limit} passers-by) cannot be met at this size by "
                "any measured threshold: a smaller watchlist, or an evaluation on more "
                "people, is needed."
            )
    return text
