"""Recognition's Celery tasks: thin callers of recognition.services (JSON args, ids only).

Cameras are not tasks: each stream worker's runner (services.stream_runner) claims their
leases and reads them continuously; the supervisor only keeps the leases right.
"""

from celery import shared_task


def _worker_stopping() -> bool:
    """True once this worker was asked to shut down (SIGTERM, Ctrl-C, a deploy).

    Read in the worker's main process, where the runner's sessions run and where Celery
    sets the flag (a prefork child never sees it).
    """
    from celery.worker import state

    # Celery stores the exit code there, and 0 means "stop": test against None/False.
    return any(
        flag is not None and flag is not False
        for flag in (state.should_stop, state.should_terminate)
    )


@shared_task(name="recognition.tasks.stream_supervisor", ignore_result=True)
def stream_supervisor():
    """Beat job: keep one lease per live camera and flag cameras no worker reads."""
    from recognition.services.streams import streams_supervise

    return streams_supervise()


@shared_task(name="recognition.tasks.alert_retention", ignore_result=True)
def alert_retention():
    """Beat job: purge alerts past retention (recognition.services.retention)."""
    from recognition.services.retention import alerts_purge_expired

    return alerts_purge_expired()


@shared_task(name="recognition.tasks.evaluation_run", ignore_result=True)
def evaluation_run(job_id: int) -> str:
    """Run one evaluation started from the accuracy page (recognition.services.evaluation)."""
    from recognition.services.evaluation import evaluation_job_run

    return evaluation_job_run(job_id=job_id)
