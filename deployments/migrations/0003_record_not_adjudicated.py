from django.db import migrations, models

KINDS = (
    "True Alerts Confirmed",
    "True Alerts Unconfirmed",
    "False Alerts Confirmed",
    "False Alerts Unconfirmed",
)


def mend_records(apps, schema_editor):
    """Every record already says how many alerts it decided (its four kinds) and how many
    it had: the undecided count follows, and the rate is restated over the decided ones.
    Signed-off records too: their counts stay as signed, only the misleading base goes."""
    record_model = apps.get_model("deployments", "DeploymentRecord")
    for record in record_model.objects.all():
        f = record.fields
        total = int(f.get("Total Alerts") or 0)
        decided = sum(int(f.get(k) or 0) for k in KINDS)
        false_alerts = int(f.get("False Alerts Confirmed") or 0) + int(
            f.get("False Alerts Unconfirmed") or 0
        )
        if decided:
            f["False Alert Rate"] = f"{100 * false_alerts / decided:.2f}% of {decided} adjudicated"
        else:
            f["False Alert Rate"] = "n/a (none adjudicated)" if total else "n/a"
        record.not_adjudicated = max(0, total - decided)
        record.save(update_fields=["fields", "not_adjudicated"])


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0002_deployment_end_reason_deployment_ended_by_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="deploymentrecord",
            name="not_adjudicated",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(mend_records, migrations.RunPython.noop),
    ]
