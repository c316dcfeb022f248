"""Every Celery task's last success and failure, recorded from Celery's own signals.

A heartbeat only says a worker is alive; a beat job or stream slice can fail every time
while it beats. These handlers run in the worker (connected in CoreConfig.ready, so the
embedded worker and `celery worker` both have them) and keep one row per task name.
Only the exception's type and message are kept, never arguments.
"""

import logging

from celery import signals
from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)


def task_run_record(*, name: str, ok: bool, error: str = "", now=None) -> None:
    from core.models import TaskRun

    now = now or timezone.now()
    if ok:
        changes = {"last_ok_at": now, "failures": 0}
    else:
        changes = {"last_failed_at": now, "last_error": error[:2000], "failures": F("failures") + 1}
    try:
        if not TaskRun.objects.filter(name=name).update(**changes):
            if not ok:
                changes["failures"] = 1
            TaskRun.objects.get_or_create(name=name, defaults=changes)
    except DatabaseError:
        # The database may be why the task failed; health then shows the database check.
        logger.warning("could not record the run of task %s", name, exc_info=True)


def _name(sender) -> str:
    return getattr(sender, "name", None) or str(sender)


def _on_success(sender=None, **kwargs):
    task_run_record(name=_name(sender), ok=True)


def _on_failure(sender=None, exception=None, **kwargs):
    task_run_record(name=_name(sender), ok=False, error=f"{type(exception).__name__}: {exception}")


def _on_retry(sender=None, reason=None, **kwargs):
    task_run_record(name=_name(sender), ok=False, error=f"retrying: {reason}")


def connect() -> None:
    signals.task_success.connect(_on_success, weak=False, dispatch_uid="core.task_success")
    signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="core.task_failure")
    signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="core.task_retry")
