"""Telling the authorities and the public: the notice of each use (EU AI Act Art. 5(4)),
and the authorising officer's decision to withhold advance public notice."""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from core import access
from core.models import AuditEvent
from core.services import audit_record
from deployments import selectors
from deployments.models import Deployment
from deployments.services.states import State

# A use is notified once it is authorised: before, there is no use to notify.
NOTIFIABLE = (State.AUTHORISED, State.LIVE, State.COMPLETED)
# Notice can be withheld (or given again) until the deployment starts.
BEFORE_START = (State.SUBMITTED, State.AUTHORISED)


def notice_digest(notice: dict) -> str:
    """A fingerprint of what was sent (its generation time aside), kept in the audit row."""
    content = {k: v for k, v in notice.items() if k != "generated_at"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def use_notice_send(
    *, deployment: Deployment, by, authority: str, reference: str = ""
) -> AuditEvent:
    """Record that the notice was sent to one configured authority: who, when, to whom."""
    access.require(by, "deployment", "notify", deployment)
    if deployment.state not in NOTIFIABLE:
        raise ValidationError("Only an authorised deployment, or one that has run, is notified.")
    kinds = {name: kind for kind, name in settings.LFR_NOTICE_AUTHORITIES}
    if authority not in kinds:
        raise ValidationError("Choose one of the configured authorities.")
    notice = selectors.use_notice(deployment)
    return audit_record(
        actor=by,
        action="deployment.notice_sent",
        obj=deployment,
        details={
            "authority": authority,
            "authority_kind": kinds[authority],
            "reference": " ".join((reference or "").split())[:200],
            "state": deployment.state,
            "notice_sha256": notice_digest(notice),
        },
    )


@transaction.atomic
def deployment_notice_decide(
    *, deployment: Deployment, by, publish: bool, reason: str = ""
) -> Deployment:
    """The authorising officer gives or withholds advance public notice; withholding needs
    a reason, and either way the decision is audited."""
    access.require(by, "deployment", "withhold_notice", deployment)
    reason = (reason or "").strip()
    if not publish and not reason:
        raise ValidationError("Say why this deployment is not announced in advance.")
    won = Deployment.objects.filter(pk=deployment.pk, state__in=BEFORE_START).update(
        public_notice=publish, no_notice_reason="" if publish else reason
    )
    if not won:
        raise ValidationError("Advance notice is decided before the deployment starts.")
    deployment.refresh_from_db()
    audit_record(
        actor=by,
        action="deployment.notice_given" if publish else "deployment.notice_withheld",
        obj=deployment,
        details={"reason": reason, "state": deployment.state},
    )
    return deployment
