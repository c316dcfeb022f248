"""Adjudication: an officer's decision on an alert, recorded once; corrections are new rows.

An alert is a prompt, not a decision (South Wales Police's terms and definitions; the
Surveillance Camera Code ¶3.2.3): a human records true or false
match, confirmed or not, and the outcome. The decision is told to the deployment's other
consoles once it commits; like alerts, that message is only a nudge.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404

from core import access
from core.services import audit_record
from recognition.models import Adjudication, Alert
from recognition.services.alerts import consoles_nudge
from recognition.services.verification import decision_allowed

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


def _adjudication_write(
    *, alert_id: int, by, corrects: Adjudication | None, **fields
) -> Adjudication:
    fields["outcome"], fields["note"], fields["perceived_group"] = _clean(
        outcome=fields["outcome"], note=fields["note"], perceived_group=fields["perceived_group"]
    )
    message, code = _ALREADY[None if corrects is None else "corrected"]
    # Lock the alert so two officers deciding at once queue; the unique constraints (one
    # first decision per alert, one correction per decision) settle it even without locks.
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    access.require(by, "alert", "adjudicate", alert)  # only an officer assigned to it
    if alert.is_test:
        # Blue-list: a test subject's alert is scored by its walk-through, not decided.
        raise ValidationError(
            "This is a blue-list test alert (a staff volunteer): it is not decided or acted on.",
            code="test_alert",
        )
    # Two-person deployments: nothing is decided (and no one acts) before two officers
    # have separately verified; a correction is held to the same rule.
    decision_allowed(
        alert=alert, is_true_match=bool(fields["is_true_match"]), outcome=fields["outcome"]
    )
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
    return _adjudication_write(
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
    return _adjudication_write(
        alert_id=first.alert_id,
        by=by,
        corrects=first,
        is_true_match=is_true_match,
        confirmed=confirmed,
        outcome=outcome,
        note=note,
        perceived_group=perceived_group,
    )


LABELS = {"is_true_match": "a true match", "confirmed": "confirmed"}
# The refusals that mean "someone decided first" (HTTP 409), not "the input is wrong".
CONFLICTS = {"already_adjudicated", "already_corrected"}


def decision_fields(data) -> dict:
    """The decision as the form and the API send it (both use the same names)."""
    truthy = {"true", "1", "yes", "on"}

    def flag(name):
        value = data.get(name)
        if value is None or str(value) == "":
            raise ValidationError(f"Say whether the alert is {LABELS[name]}.", code=name)
        return str(value).lower() in truthy if not isinstance(value, bool) else value

    return {
        "is_true_match": flag("is_true_match"),
        "confirmed": flag("confirmed"),
        "outcome": str(data.get("outcome") or ""),
        "note": str(data.get("note") or ""),
        "perceived_group": str(data.get("perceived_group") or ""),
    }


def adjudication_submit(*, alert: Alert, by, data, corrects_id=None) -> Adjudication:
    """Record or correct, from submitted data (the console's form and the API alike)."""
    fields = decision_fields(data)
    if corrects_id:
        if not str(corrects_id).isdigit():
            raise ValidationError(
                "corrects must be the number of the decision being corrected.", code="corrects"
            )
        first = get_object_or_404(Adjudication, pk=corrects_id, alert=alert)
        return adjudication_correct(first=first, by=by, **fields)
    return adjudication_record(alert=alert, by=by, **fields)


def adjudication_saved_already(*, alert: Alert, by, data) -> bool:
    """Whether a retried decision is the one already in place, recorded by the same user.

    The console retries a decision whose first attempt timed out or met a 5xx; that
    attempt may have been saved. The unique constraints refuse a second row either way;
    this only tells the officer their decision stands instead of "already adjudicated".
    """
    try:
        fields = decision_fields(data)
    except ValidationError:
        return False
    corrects_id = data.get("corrects") or None
    rows = Adjudication.objects.filter(alert=alert, by=by)
    rows = (
        rows.filter(corrects__isnull=True)
        if corrects_id is None
        else rows.filter(corrects_id=corrects_id)
    )
    fields["note"], fields["perceived_group"] = (
        fields["note"].strip(),
        fields["perceived_group"].strip(),
    )
    return rows.filter(**fields).exists()


def adjudication_publish(*, deployment_id: int, seq: int) -> None:
    """Nudge the deployment's consoles that alert `seq` has a new decision."""
    # Committed already; consoles re-read decisions on their tick.
    consoles_nudge(
        deployment_id=deployment_id,
        kind="alert.adjudicated",
        seq=seq,
        unsent=f"decision on alert seq {seq} not published live",
    )
