"""The Celery app.

Workers: `celery -A lfr_site worker -Q default,streams`; beat: `celery -A lfr_site beat`.
"""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lfr_site.settings")

app = Celery("lfr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def refuse_detached_worker_on_embedded_layer(**kwargs):
    """A separate worker process cannot reach browsers through an in-process layer.

    Alerts would still be saved (and replayed on reconnect) but never pushed live, which
    looks like a working system that silently is not. The embedded default runs its
    worker inside the server process (`manage.py lfr_demo`) instead.
    """
    from django.conf import settings

    if (
        settings.EMBEDDED_LAYER
        and not settings.LFR_EMBEDDED_WORKER
        and os.environ.get("LFR_ALLOW_DETACHED_WORKER") != "1"
    ):
        raise SystemExit(
            "lfr: REDIS_URL is not set, so the channel layer is in-process and a separate "
            "Celery worker could never push alerts to browsers. Set REDIS_URL, or run "
            "`python manage.py lfr_demo`, which runs the worker inside the server."
        )
