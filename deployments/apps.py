from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self):
        from core import work
        from deployments.selectors import waiting_for

        work.register(waiting_for)
