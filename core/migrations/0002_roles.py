"""Create one group per role (core/roles.py) holding its capabilities."""

from django.db import migrations

# Frozen copy of core.access.ROLE_CAPABILITIES at the time of this migration.
ROLE_CAPABILITIES = {
    "command_staff": ["plan_deployment", "place_legal_hold"],
    "authorising_officer": ["authorise_deployment"],
    "watchlist_contributor": ["submit_watchlist_entry"],
    "watchlist_manager": ["approve_watchlist_entry"],
    "officer": ["watch_alerts"],
    "oversight": ["read_all", "view_audit"],
    "admin": ["manage_cameras", "view_audit", "place_legal_hold"],
}
CAPABILITIES = {
    "plan_deployment": "Plan and submit deployments",
    "authorise_deployment": "Authorise or refuse deployments",
    "submit_watchlist_entry": "Propose watchlist entries",
    "approve_watchlist_entry": "Approve, reject and expire watchlist entries",
    "watch_alerts": "Watch and adjudicate alerts of assigned deployments",
    "read_all": "Read every record, the audit log and the reports",
    "view_audit": "Read the audit log",
    "manage_cameras": "Register sites and cameras, manage users",
    "place_legal_hold": "Place and lift legal holds on alerts",
}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after migrate; create them now so the groups can hold them.
    ct, _ = ContentType.objects.get_or_create(app_label="core", model="capability")
    perms = {
        code: Permission.objects.get_or_create(
            content_type=ct, codename=code, defaults={"name": name}
        )[0]
        for code, name in CAPABILITIES.items()
    }
    for role, codes in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(perms[c] for c in codes))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_CAPABILITIES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
