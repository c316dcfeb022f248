from django.apps import AppConfig


class WatchlistsConfig(AppConfig):
    name = "watchlists"
    verbose_name = "Watchlists"

    def ready(self):
        from core import work
        from watchlists.selectors import waiting_for

        work.register(waiting_for)
