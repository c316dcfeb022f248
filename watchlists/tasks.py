from celery import shared_task

from watchlists import services


@shared_task(name="watchlists.tasks.entry_retention")
def entry_retention() -> dict:
    """Beat, every 5 minutes: expire due entries and purge ended ones' images."""
    result = services.entry_retention()
    return {key: len(value) if isinstance(value, list) else value for key, value in result.items()}


@shared_task(name="watchlists.tasks.import_run", ignore_result=True)
def import_run(job_id: int) -> str:
    """Run one bulk import started from the page (watchlists.services.bulk)."""
    from watchlists.services.bulk import import_job_run

    return import_job_run(job_id=job_id)
