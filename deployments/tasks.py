"""Beat tasks for deployments: thin callers of the services (schedule in settings)."""

from celery import shared_task

from deployments import services


@shared_task(name="deployments.tasks.lifecycle_tick")
def lifecycle_tick() -> dict:
    """Start authorised deployments at their start, complete live ones at their end."""
    return services.lifecycle_tick()


@shared_task(name="deployments.tasks.watchlist_retention")
def watchlist_retention() -> dict:
    """Destroy frozen watchlist encodings after end + LFR_WATCHLIST_GRACE_HOURS."""
    return services.watchlist_retention()
