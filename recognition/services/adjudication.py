"""Adjudication: an officer's decision on an alert, recorded once; corrections are new rows.

An alert is a prompt, not a decision (DOMAIN.md §6): a human records true or false
match, confirmed or not, and the outcome. The decision is told to the deployment's other
consoles once it commits; like alerts, that message is only a nudge.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core import access
from core.services import audit_record
from recognition.models import Adjudication, Alert
from recognition.services.alerts import alert_group

logger = logging.getLogger(__name__)

NOTE_MAX = 2000


def _clean(*, outcome: str, note: str, perceived_group: str) -> tuple[str, str, str]:
    if outcome not in Adjudication.Outcome.values:
        raise ValidationError(
            f"Outcome must be one of: {', '.join(Adjudication.Outcome.values)}.", code="outcome"
        )
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError(f"The note may be at most {NOTE_MAX} characters.", code="note")
    perceived_group = (perceived_group or "").strip()
    if perceived_group and perceived_group not in settings.LFR_EQUALITY_GROUPS:
        raise ValidationError(
            f"Perceived group must be one of: {', '.join(settings.LFR_EQUALITY_GROUPS)}.",
            code="perceived_group",
        )
    return outcome, note, perceived_group


def _details(adj: Adjudication) -> dict:
    # Counts and labels only: the note is free text and stays in its own row.
    return {
        "alert": adj.alert_id,
        "deployment": adj.alert.deployment_id,
        "seq": adj.alert.seq,
        "is_true_match": adj.is_true_match,
        "confirmed": adj.confirmed,
        "outcome": adj.outcome,
        "perceived_group_recorded": bool(adj.perceived_group),
        "corrects": adj.corrects_id,
    }


_ALREADY = {
    None: (
        "This alert has already been adjudicated; record a correction instead.",
        "already_adjudicated",
    ),
    "corrected": (
        "That decision has already been corrected; correct the latest decision instead.",
        "already_corrected",
    ),
}


def _decide(*, alert_id: int, by, corrects: Adjudication | None, **fields) -> Adjudication:
    fields["outcome"], fields["note"], fields["perceived_group"] = _clean(
        outcome=fields["outcome"], note=fields["note"], perceived_group=fields["perceived_group"]
    )
    message, code = _ALREADY[None if corrects is None else "corrected"]
    # Lock the alert so two officers deciding at once queue; the unique constraints (one
    # first decision per alert, one correction per decision) settle it even without locks.
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    access.require(by, "alert", "adjudicate", alert)  # only an officer assigned to it
    taken = (
        alert.adjudications.filter(corrects__isnull=True)
        if corrects is None
        else Adjudication.objects.filter(corrects_id=corrects.pk)
    )
    if taken.exists():
        raise ValidationError(message, code=code)
    try:
        # A savepoint, so a lost race leaves the outer transaction usable for the error.
        with transaction.atomic():
            adj = Adjudication.objects.create(
                alert=alert,
                by=by,
                corrects=corrects,
                is_true_match=bool(fields["is_true_match"]),
                confirmed=bool(fields["confirmed"]),
                outcome=fields["outcome"],
                note=fields["note"],
                perceived_group=fields["perceived_group"],
            )
    except IntegrityError:
        raise ValidationError(message, code=code) from None
    action = "alert.adjudicated" if corrects is None else "alert.adjudication_corrected"
    audit_record(actor=by, action=action, obj=alert, details=_details(adj))
    deployment_id, seq = alert.deployment_id, alert.seq
    transaction.on_commit(lambda: adjudication_publish(deployment_id=deployment_id, seq=seq))
    return adj


@transaction.atomic
def adjudication_record(
    *,
    alert: Alert,
    by,
    is_true_match: bool,
    confirmed: bool,
    outcome: str,
    note: str = "",
    perceived_group: str = "",
) -> Adjudication:
    """Record the decision on `alert`. A second plain decision is refused."""
    return _decide(
        alert_id=alert.pk,
        by=by,
        corrects=None,
        is_true_match=is_true_match,
        confirmed=confirmed,
        outcome=outcome,
        note=note,
        perceived_group=perceived_group,
    )


@transaction.atomic
def adjudication_correct(
    *,
    first: Adjudication,
    by,
    is_true_match: bool,
    confirmed: bool,
    outcome: str,
    note: str = "",
    perceived_group: str = "",
) -> Adjudication:
    """Record a correction of decision `first`: a new audited row with corrects=first."""
    return _decide(
        alert_id=first.alert_id,
        by=by,
        corrects=first,
        is_true_match=is_true_match,
        confirmed=confirmed,
        outcome=outcome,
        note=note,
        perceived_group=perceived_group,
    )


def adjudication_publish(*, deployment_id: int, seq: int) -> None:
    """Nudge the deployment's consoles that alert `seq` has a new decision."""
    try:
        async_to_sync(get_channel_layer().group_send)(
            alert_group(deployment_id),
            {"type": "alert.adjudicated", "deployment_id": deployment_id, "seq": seq},
        )
    except Exception as exc:  # committed already; consoles re-read decisions on their tick
        logger.warning("decision on alert seq %s not published live: %s", seq, type(exc).__name__)
