"""The reports: each alert's decision in force, effectiveness, accuracy and equality."""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from core.stats import Z95, too_few, wilson_interval  # noqa: F401 (re-exported)
from deployments.models import Deployment, UseCase
from recognition.models import Adjudication, Alert, EvaluationJob, EvaluationRun
from recognition.selectors import decisions_in_force, verification_counts, verification_kind


def alert_facts(alerts):
    """Alerts annotated with their decision in force and their first decision's time.

    The effective decision is `recognition.selectors.decisions_in_force`; the time to
    adjudication is measured to the *first* decision, because that is when an officer
    acted on the alert.
    """
    latest = decisions_in_force().filter(alert=OuterRef("pk")).order_by("-pk")
    first = Adjudication.objects.filter(alert=OuterRef("pk")).order_by("at", "pk")
    # Blue-list test alerts are no operational alert: out of every report figure.
    return verification_counts(alerts.filter(is_test=False)).annotate(
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
    # EU AI Act Art. 14(5): recognition.selectors.verification_kind of each alert.
    verified: int = 0
    single_verified: int = 0
    disagreed: int = 0
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
            "verified": self.verified,
            "single_verified": self.single_verified,
            "verification_disagreed": self.disagreed,
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
    "verified",
    "single_verified",
    "verification_disagreed",
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
        "deployment_id",
        "deployment__verification",
        "created_at",
        "eff_true",
        "eff_confirmed",
        "eff_outcome",
        "first_at",
        "checks",
        "true_checks",
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
    kind = verification_kind(
        two_person=a["deployment__verification"] == Deployment.Verification.TWO,
        checks=a["checks"],
        true_checks=a["true_checks"],
        decided_true=a["eff_true"],
    )
    if kind:
        setattr(t, kind, getattr(t, kind) + 1)
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


def evaluation_jobs():
    """Evaluations started from the page, newest first (the upload itself is not read)."""
    return EvaluationJob.objects.defer("archive").select_related("by", "run")


IDENTIFICATION_COLUMNS = (
    "threshold", "tpir", "wrong_identity_alerts", "false_alerts", "fpir", "false_matches",
    "fmr_upper",
)  # fmt: skip


def identification_accuracy(run: EvaluationRun) -> dict:
    """One 1:N run: its rows as stored (counts, intervals, bounds), sorted by threshold."""
    rows = sorted(
        (r for r in run.thresholds or [] if isinstance(r, dict) and "threshold" in r),
        key=lambda r: r["threshold"],
    )
    return {
        "run": run,
        "kind": run.kind,
        "rows": rows,
        "summary": run.summary or {},
        "operating_point": dict(run.operating_point or {}),
        "no_face_count": len(run.no_face or []),
    }


def accuracy(run: EvaluationRun) -> dict:
    """One evaluation run as sorted threshold rows, with its operating point located."""
    if run.kind == EvaluationRun.Kind.IDENTIFICATION:
        return identification_accuracy(run)

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
        "kind": run.kind,
        "rows": rows,
        "operating_point": point,
        "no_face_count": len(run.no_face or []),
    }


# --- equality -----------------------------------------------------------------------------

NOT_RECORDED = "Not recorded"


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
        weak = too_few(n, low, high)
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
    return {
        "rows": rows,
        "conclusion": _equality_conclusion(rows),
        "recall": recall_by_group(since=since, until=until),
    }


def recall_by_group(*, since=None, until=None) -> list[dict]:
    """Blue-list walk-throughs of the period, detected or not, by the walker's perceived
    group with 95 % Wilson intervals: unequal *recall* is what paused a force's field
    test (Essex, 2026), and false alerts alone cannot show it."""
    from deployments import selectors as deployment_selectors
    from deployments.models import Deployment

    walked = Deployment.objects.filter(walkthroughs__isnull=False).distinct()
    rows = []
    for deployment in walked:
        for row in deployment_selectors.walkthroughs(deployment):
            started = row["walk"].started_at
            if (since and started < since) or (until and started >= until):
                continue
            rows.append(row)
    return deployment_selectors.recall_by_group(rows) if rows else []


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
