"""Beat runs every periodic job once when it starts, not one period later.

A fresh start used to leave the hourly alert retention unrun for an hour, and the
retention page showed alerts past their deletion date as "overdue" meanwhile.
"""

import queue

from celery import Celery
from celery.beat import Service
from celery.signals import beat_init
from django.conf import settings


def _beat_app():
    # A real broker transport that lives in this process, so nothing reaches a worker.
    app = Celery("beat-test", broker="memory://", set_as_current=False)
    app.conf.beat_schedule = settings.CELERY_BEAT_SCHEDULE
    app.conf.task_default_queue = "default"
    return app


def _sent(app) -> list[str]:
    names = []
    with app.connection_for_read() as connection:
        inbox = connection.SimpleQueue("default")
        try:
            while True:
                message = inbox.get(block=False)
                names.append(message.headers["task"])
                message.ack()
        except queue.Empty:
            pass
        inbox.close()
    return names


def test_it_sends_every_beat_job_once_at_start(tmp_path):
    app = _beat_app()
    service = Service(app=app, schedule_filename=str(tmp_path / "schedule"))
    beat_init.send(sender=service)
    expected = sorted(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values())
    assert sorted(_sent(app)) == expected


def test_a_job_run_at_start_is_next_due_one_period_later(tmp_path):
    app = _beat_app()
    service = Service(app=app, schedule_filename=str(tmp_path / "schedule"))
    beat_init.send(sender=service)
    entry = service.scheduler.schedule["alert-retention"]
    due, wait = entry.is_due()
    assert not due and wait > 3000  # an hour, less the time this test took
