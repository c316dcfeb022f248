"""Make sure every role group exists and holds its capabilities.

The migration 0002_roles creates them on a new database; this post_migrate handler keeps
them there after `flush` (which empties auth_group, e.g. between transactional tests)
and after new capabilities are added.
"""

from core.access import ROLE_CAPABILITIES


def ensure_roles(**kwargs):
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from core.models import Capability

    ct = ContentType.objects.get_for_model(Capability, for_concrete_model=False)
    perms = {p.codename: p for p in Permission.objects.filter(content_type=ct)}
    for codename, name in Capability._meta.permissions:
        if codename not in perms:
            perms[codename] = Permission.objects.create(
                content_type=ct, codename=codename, name=name
            )
    for role, codes in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(perms[c] for c in codes))
