"""Reads for the officers' live console: what a socket may see, and alerts as it sees them.

Kept apart from `recognition/selectors.py` (the stream workers' reads). Everything here
returns plain, JSON-serialisable values: the consumer only carries them.
"""

from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    IntegerField,
    Prefetch,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core import access
from deployments.models import Deployment
from recognition.models import Adjudication, Alert, Verification
from recognition.selectors import decisions_in_force
from recognition.serializers import alert_data, for_viewer

# One websocket message never carries more than this many alerts; the rest follow.
BATCH = 100
# Decisions this recent are re-sent on every tick, so one committed out of id order (two
# officers deciding at once) still reaches every console.
DECIDED_WINDOW = timedelta(seconds=15)


def console_purpose(deployment: Deployment) -> str:
    """The purpose the console gives for every image it shows: the deployment itself."""
    return f"deployment {deployment.reference} live monitoring"


def session_users(keys) -> dict:
    """{session key: user} for sessions that still belong to an active user.

    Read afresh on every call: a socket outlives the request that opened it, and logging
    out (the session is flushed), expiry, disabling the account or changing the password
    must end it. One query for the sessions and one for their users, however many keys.
    """
    keys = {k for k in keys if k}
    engine = import_module(settings.SESSION_ENGINE)
    data = {}
    if keys and settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.contrib.sessions.models import Session

        store = engine.SessionStore()
        rows = Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        for key, raw in rows.values_list("session_key", "session_data"):
            data[key] = store.decode(raw)
    else:
        data = {key: engine.SessionStore(key).load() for key in keys}
    ids = {str(d[SESSION_KEY]) for d in data.values() if d.get(SESSION_KEY) is not None}
    users = {str(u.pk): u for u in get_user_model().objects.filter(pk__in=ids, is_active=True)}
    found = {}
    for key, d in data.items():
        user = users.get(str(d.get(SESSION_KEY)))
        if user is not None and constant_time_compare(
            d.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
        ):
            found[key] = user
    return found


def session_user(session_key: str | None):
    """The active user a session still belongs to, or None once logged out or expired."""
    return session_users([session_key]).get(session_key)


def consoles_for(user):
    """Deployments whose console the user may open, as the list shows them: live first,
    then authorised ones coming up, then finished ones with alerts still to decide.

    Readers (oversight) watch read-only and see every live or authorised deployment.
    Drafts, requests, refusals and cancellations have no console to open.
    """
    from django.db.models import Count

    qs = access.restrict(user, "console", "list", Deployment.objects.all())
    State = Deployment.State
    order = Case(
        When(state=State.LIVE, then=Value(0)),
        When(state=State.AUTHORISED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        qs.annotate(
            undecided=Count(
                "alerts",
                filter=Q(alerts__adjudications__isnull=True, alerts__is_test=False),
                distinct=True,
            )
        )
        .filter(
            Q(state__in=(State.LIVE, State.AUTHORISED)) | Q(state=State.COMPLETED, undecided__gt=0)
        )
        .select_related("site")
        .annotate(live_first=order)
        .order_by("live_first", "-starts_at")
    )


def console_alerts():
    """Alerts with what the wire shape (recognition.serializers) reads; not the crop."""
    return (
        Alert.objects.select_related("camera", "deployment")
        .prefetch_related(
            Prefetch(
                "adjudications",
                queryset=decisions_in_force().select_related("by"),
                to_attr="in_force",
            ),
            Prefetch(
                "verifications",
                queryset=Verification.objects.select_related("by").order_by("at", "pk"),
                to_attr="verification_rows",
            ),
        )
        .defer("crop")
        .annotate(has_crop=ExpressionWrapper(Q(crop__isnull=False), output_field=BooleanField()))
    )


@dataclass(frozen=True)
class _Read:
    """Alerts read once for every socket that asked the same question, and their wire
    shape for no one in particular: `shown(user)` is what that user's socket sends."""

    rows: list
    data: list

    def shown(self, user) -> list[dict]:
        return for_viewer(self.rows, self.data, user)


def _read(deployment: Deployment, rows) -> _Read:
    rows = list(rows)
    return _Read(rows, alert_data(rows, purpose=console_purpose(deployment)))


def _after(deployment: Deployment, seq: int, *, limit: int = BATCH) -> _Read:
    """Alerts past the cursor `seq`, in the order they changed (see `_split`)."""
    return _read(
        deployment,
        console_alerts()
        .filter(deployment=deployment, changed_seq__gt=seq)
        .order_by("changed_seq")[:limit],
    )


def _split(data: list[dict], seq: int) -> tuple[list, list]:
    """(new, updated): alerts raised after the cursor, and alerts the console holds
    already (seq <= cursor) that were seen again since (changed_seq)."""
    return [a for a in data if a["seq"] > seq], [a for a in data if a["seq"] <= seq]


def _newly_decided(
    deployment: Deployment, *, after_id: int, after_verification: int, since, upto_seq: int
) -> _Read:
    """Held alerts with a decision or a verification past the socket's cursors, or recent."""
    ids = Adjudication.objects.filter(alert__deployment=deployment, alert__seq__lte=upto_seq)
    ids = ids.filter(Q(pk__gt=after_id) | Q(at__gte=since)).values("alert_id")
    checked = Verification.objects.filter(
        alert__deployment=deployment, alert__seq__lte=upto_seq
    ).filter(Q(pk__gt=after_verification) | Q(at__gte=since))
    rows = (
        console_alerts()
        .filter(deployment=deployment)
        .filter(Q(pk__in=ids) | Q(pk__in=checked.values("alert_id")))
        .order_by("seq")
    )
    return _read(deployment, rows)


def alert_for_console(alert_id: int, user) -> dict | None:
    alert = console_alerts().filter(pk=alert_id).first()
    if alert is None or not access.can(user, "alert", "view", alert):
        return None
    return alert_data([alert], purpose=console_purpose(alert.deployment), viewer=user)[0]


@dataclass(frozen=True)
class Ask:
    """One socket's question: may I still watch, and what is new past my cursors?"""

    session_key: str | None
    deployment_id: int
    after_seq: int | None = None  # None: the permission check only
    after_decision: int = 0
    decided: bool = False  # also re-send decisions of the last DECIDED_WINDOW
    after_verification: int = 0  # the verification cursor, like after_decision


def poll_many(asks: list[Ask]) -> list[dict | None]:
    """Answer many sockets at once: None where watching is no longer allowed.

    Every socket's permission is checked afresh through core.access; what is shared
    (the session and user rows, the alerts past a seq) is read once per batch, so a
    nudge to 500 consoles costs a handful of queries instead of thousands. Only the
    verification view differs per user, derived from the rows already read.
    """
    users = session_users(a.session_key for a in asks)
    deployments = Deployment.objects.in_bulk({a.deployment_id for a in asks})
    since = timezone.now() - DECIDED_WINDOW
    allowed, fresh, decided, answers = {}, {}, {}, []
    for ask in asks:
        user, deployment = users.get(ask.session_key), deployments.get(ask.deployment_id)
        if user is None or deployment is None:
            answers.append(None)
            continue
        key = (user.pk, deployment.pk)
        if key not in allowed:
            allowed[key] = access.can(user, "deployment", "watch", deployment)
        if not allowed[key]:
            answers.append(None)
            continue
        answer = {"alerts": [], "updated": [], "decided": []}
        if ask.after_seq is not None:
            key = (deployment.pk, ask.after_seq)
            if key not in fresh:
                fresh[key] = _after(deployment, ask.after_seq)
            answer["alerts"], answer["updated"] = _split(fresh[key].shown(user), ask.after_seq)
        if ask.after_seq is not None and ask.decided:
            key = (deployment.pk, ask.after_seq, ask.after_decision, ask.after_verification)
            if key not in decided:
                decided[key] = _newly_decided(
                    deployment,
                    after_id=ask.after_decision,
                    after_verification=ask.after_verification,
                    since=since,
                    upto_seq=ask.after_seq,
                )
            answer["decided"] = decided[key].shown(user)
        answers.append(answer)
    return answers
