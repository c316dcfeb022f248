"""A subject's history across apps: entries, alerts and their audit."""

from django.db.models import Q

from core.models import AuditEvent
from oversight.selectors.reports import alert_facts
from recognition.models import Alert


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
