"""Mend `ended_at` (the actual end) on deployments that have ended.

Rows stopped early could carry no end, or a later one than really happened; where the
audit records the stop, completion, cancellation, expiry or lapse, that moment wins. No
end is ever later than the planned end, and a completed run never ends before it
started. Cameras and the frozen watchlist's destruction count from this field.
"""

from django.db import migrations

END_ACTIONS = (
    "deployment.stop",
    "deployment.complete",
    "deployment.cancel",
    "deployment.expire",
    "deployment.urgent_lapsed",
)


def actual_end(d, audited):
    candidates = [t for t in (d.ended_at, audited) if t is not None]
    end = min(candidates) if candidates else min(d.updated_at, d.ends_at)
    end = min(end, d.ends_at)
    if d.state == "completed" and d.started_at is not None:
        end = max(end, d.started_at)
    return end


def mend(apps, schema_editor):
    Deployment = apps.get_model("deployments", "Deployment")
    AuditEvent = apps.get_model("core", "AuditEvent")
    audited = {}
    for object_id, at in (
        AuditEvent.objects.filter(action__in=END_ACTIONS, object_type="deployments.deployment")
        .order_by("seq")
        .values_list("object_id", "at")
    ):
        audited.setdefault(object_id, at)  # the first end is the end
    for d in Deployment.objects.filter(state__in=("completed", "cancelled")).iterator():
        end = actual_end(d, audited.get(str(d.pk)))
        if end != d.ended_at:
            # update(), not save(): the row's updated_at stays what it was.
            Deployment.objects.filter(pk=d.pk).update(ended_at=end)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_audit_append_only"),
        ("deployments", "0003_record_not_adjudicated"),
    ]

    operations = [migrations.RunPython(mend, migrations.RunPython.noop)]
