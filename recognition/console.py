"""Reads for the officers' live console: what a socket may see, and alerts as it sees them.

Kept apart from `recognition/selectors.py` (the stream workers' reads). Everything here
returns plain, JSON-serialisable values: the consumer only carries them.
"""

from datetime import timedelta
from importlib import import_module
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db.models import BooleanField, Case, ExpressionWrapper, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core import access
from deployments.models import Deployment
from recognition.models import Adjudication, Alert

# One websocket message never carries more than this many alerts; the rest follow.
BATCH = 100


def console_purpose(deployment: Deployment) -> str:
    """The purpose the console gives for every image it shows: the deployment itself."""
    return f"deployment {deployment.reference} live monitoring"


def session_user(session_key: str | None):
    """The active user a session still belongs to, or None once logged out or expired.

    Read afresh on every call: a socket outlives the request that opened it, and logging
    out, disabling the account or changing the password must end it.
    """
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    data = store.load()  # {} when the session was flushed (logout) or has expired
    user_id = data.get(SESSION_KEY)
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not constant_time_compare(
        data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    ):
        return None
    return user


def watcher(*, session_key: str | None, deployment_id: int):
    """(user, deployment) when the session's user may watch the deployment now, else None."""
    user = session_user(session_key)
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    if user is None or deployment is None:
        return None
    if not access.can(user, "deployment", "watch", deployment):
        return None
    return user, deployment


def consoles_for(user):
    """Deployments whose console the user may open: assigned ones, live first.

    Readers (oversight) watch read-only and see every live or authorised deployment.
    """
    if access.has(user, "read_all"):
        qs = Deployment.objects.filter(
            state__in=[Deployment.State.LIVE, Deployment.State.AUTHORISED]
        )
    else:
        qs = Deployment.objects.filter(officers=user)
    live_first = Case(
        When(state=Deployment.State.LIVE, then=Value(0)),
        When(state=Deployment.State.AUTHORISED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        qs.select_related("site")
        .annotate(live_first=live_first)
        .order_by("live_first", "-starts_at")
    )


def _decision(adj: Adjudication | None) -> dict | None:
    if adj is None:
        return None
    return {
        "id": adj.pk,
        "is_true_match": adj.is_true_match,
        "confirmed": adj.confirmed,
        "outcome": adj.outcome,
        "outcome_label": Adjudication.Outcome(adj.outcome).label,
        "note": adj.note,
        "perceived_group": adj.perceived_group,
        "by": adj.by.get_username(),
        "at": adj.at.isoformat(),
        "is_correction": adj.corrects_id is not None,
    }


def current_decision(alert: Alert) -> Adjudication | None:
    """The decision in force: the last of the chain of corrections (none corrects it)."""
    chain = list(alert.adjudications.all())
    corrected = {a.corrects_id for a in chain if a.corrects_id}
    live = [a for a in chain if a.pk not in corrected]
    return max(live, key=lambda a: a.pk) if live else None


def serialise(alert: Alert, *, purpose: str) -> dict:
    """One alert (from `console_alerts()`) as the console shows it.

    No watchlist intelligence and no biometric data: images are links, fetched (and
    audited) one by one.
    """
    query = urlencode({"purpose": purpose})
    return {
        "seq": alert.seq,
        "id": alert.pk,
        "camera": alert.camera.name,
        "subject_reference": alert.subject_reference,
        "distance": round(alert.distance, 3),
        "threshold": round(alert.threshold, 3),
        # Higher is closer, which is how people read a score; 1 - distance keeps it honest.
        "score": round(max(0.0, 1.0 - alert.distance), 3),
        "time": alert.created_at.isoformat(),
        "frame_at": alert.frame_at.isoformat(),
        "crop_url": (
            f"{reverse('recognition:alert_crop', args=[alert.pk])}?{query}"
            if alert.has_crop
            else ""
        ),
        "reference_url": f"{reverse('recognition:alert_reference', args=[alert.pk])}?{query}",
        "adjudicate_url": reverse("recognition:adjudicate", args=[alert.pk]),
        "decision": _decision(current_decision(alert)),
    }


def console_alerts():
    """Alerts with what serialise() reads; the crop itself stays in the database."""
    return (
        Alert.objects.select_related("camera", "deployment")
        .prefetch_related("adjudications__by")
        .defer("crop")
        .annotate(has_crop=ExpressionWrapper(Q(crop__isnull=False), output_field=BooleanField()))
    )


def alerts_after(deployment: Deployment, seq: int, user, *, limit: int = BATCH) -> list[dict]:
    """Alerts of the deployment with seq > `seq`, oldest first: what a console missed."""
    if not access.can(user, "deployment", "watch", deployment):
        return []
    purpose = console_purpose(deployment)
    rows = console_alerts().filter(deployment=deployment, seq__gt=seq).order_by("seq")[:limit]
    return [serialise(a, purpose=purpose) for a in rows]


def alerts_decided_since(
    deployment: Deployment, *, after_id: int, since, user, upto_seq: int
) -> list[dict]:
    """Alerts (seq <= upto_seq) given a decision with id > after_id or at/after `since`.

    The time window re-sends recent decisions, so one committed out of id order is not
    skipped; the page keeps whichever decision has the higher id.
    """
    if not access.can(user, "deployment", "watch", deployment):
        return []
    ids = Adjudication.objects.filter(alert__deployment=deployment, alert__seq__lte=upto_seq)
    ids = ids.filter(Q(pk__gt=after_id) | Q(at__gte=since)).values("alert_id")
    purpose = console_purpose(deployment)
    rows = console_alerts().filter(deployment=deployment).filter(pk__in=ids).order_by("seq")
    return [serialise(a, purpose=purpose) for a in rows]


def alert_for_console(alert_id: int, user) -> dict | None:
    alert = console_alerts().filter(pk=alert_id).first()
    if alert is None or not access.can(user, "alert", "view", alert):
        return None
    return serialise(alert, purpose=console_purpose(alert.deployment))


def overdue_before():
    """Alerts created before this instant and still undecided stand out on the console."""
    return timezone.now() - timedelta(minutes=settings.LFR_UNADJUDICATED_MINUTES)


def adjudication_summary(deployment: Deployment) -> dict:
    """Counts of the decisions in force, in the Met's published field names."""
    counts = {
        "Total Alerts": 0,
        "True Alerts Confirmed": 0,
        "True Alerts Unconfirmed": 0,
        "False Alerts Confirmed": 0,
        "False Alerts Unconfirmed": 0,
        "Outcome - Arrest": 0,
        "Outcome - Other": 0,
        "No action": 0,
        "Undecided": 0,
    }
    outcome_field = {
        Adjudication.Outcome.ARREST: "Outcome - Arrest",
        Adjudication.Outcome.OTHER: "Outcome - Other",
        Adjudication.Outcome.NO_ACTION: "No action",
    }
    for alert in Alert.objects.filter(deployment=deployment).prefetch_related("adjudications"):
        counts["Total Alerts"] += 1
        decision = current_decision(alert)
        if decision is None:
            counts["Undecided"] += 1
            continue
        truth = "True" if decision.is_true_match else "False"
        sure = "Confirmed" if decision.confirmed else "Unconfirmed"
        counts[f"{truth} Alerts {sure}"] += 1
        counts[outcome_field[decision.outcome]] += 1
    return counts


def poll(*, session_key, deployment_id, after_seq, after_decision, since):
    """One permission check and one catch-up read, in a single thread hop."""
    allowed = watcher(session_key=session_key, deployment_id=deployment_id)
    if allowed is None:
        return None
    user, deployment = allowed
    alerts = [] if after_seq is None else alerts_after(deployment, after_seq, user)
    decided = []
    if after_seq is not None and since is not None:
        decided = alerts_decided_since(
            deployment, after_id=after_decision, since=since, user=user, upto_seq=after_seq
        )
    return {"alerts": alerts, "decided": decided}
