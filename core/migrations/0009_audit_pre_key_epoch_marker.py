"""Close the pre-key epoch with a keyed row (issue 24.4).

Migration 0005 left the rows already in the table unkeyed (plain SHA-256). Whoever can
write the table without the key could re-write any later row the same way and call it
"pre-key": so the end of that epoch is recorded here, in a keyed row
(`audit.pre_key_epoch_closed`, details `pre_key_last_seq`), which `audit_verify` trusts
because only the key makes it. An unkeyed row after that seq, or any unkeyed row when no
marker exists, is refused. A table with no unkeyed row gets no marker.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from core.services import audit_pre_key_epoch_close

    audit_pre_key_epoch_close(model=apps.get_model("core", "AuditEvent"))


class Migration(migrations.Migration):
    dependencies = [("core", "0008_task_run_health")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
