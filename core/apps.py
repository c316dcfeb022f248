from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Accounts, access and audit"

    def ready(self):
        from core import task_health
        from core.roles import ensure_roles

        task_health.connect()

        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="core.ensure_roles")

        from core import notices, work

        work.register(notices.waiting_for)
