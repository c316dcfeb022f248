"""Recognition's Celery tasks: thin callers of recognition.services (JSON args, ids only)."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

# A slice whose database stayed locked or lost through its own back-off is queued again
# this much later (a few times), rather than waiting for its lease to look stale.
DB_RETRY_COUNTDOWN = 5


def _worker_stopping() -> bool:
    """True once this worker was asked to shut down (SIGTERM, Ctrl-C, a deploy)."""
    from celery.worker import state

    # Celery stores the exit code there, and 0 means "stop": test against None/False.
    return any(
        flag is not None and flag is not False
        for flag in (state.should_stop, state.should_terminate)
    )


@shared_task(
    bind=True,
    name="recognition.tasks.stream_slice",
    ignore_result=True,
    # Only the prefork pool enforces these. Under solo or threads a slice stuck in a
    # blocking read still loses its camera: the lease goes stale and another worker takes it.
    soft_time_limit=settings.LFR_STREAM_SLICE_SECONDS + 60,
    time_limit=settings.LFR_STREAM_SLICE_SECONDS + 120,
)
def stream_slice(self, lease_id: int):
    """Work one camera for one bounded slice, then hand it to a successor task."""
    from recognition.services.streams import holder_id, stream_slice_run

    try:
        outcome = stream_slice_run(
            lease_id=lease_id,
            holder=holder_id(self.request.hostname or ""),
            stopping=_worker_stopping,
        )
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=DB_RETRY_COUNTDOWN, max_retries=5) from exc
    if outcome.successor:
        transaction.on_commit(lambda: stream_slice.delay(lease_id))
    return outcome.reason


@shared_task(name="recognition.tasks.stream_supervisor", ignore_result=True)
def stream_supervisor():
    """Beat job: keep one lease per live camera and restart any that went stale."""
    from recognition.services.streams import streams_supervise

    for lease_id in streams_supervise():
        transaction.on_commit(lambda lease_id=lease_id: stream_slice.delay(lease_id))


@shared_task(name="recognition.tasks.alert_retention", ignore_result=True)
def alert_retention():
    """Beat job: purge alerts past retention (recognition.services.retention)."""
    from recognition.services.retention import alerts_purge_expired

    return alerts_purge_expired()
