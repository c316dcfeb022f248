"""The Celery app.

Workers: `celery -A lfr_site worker -Q default,streams`; beat: `celery -A lfr_site beat`.
"""

import logging
import os
import uuid

from celery import Celery, bootsteps
from celery.signals import beat_init, setup_logging, worker_init
from kombu.transport import TRANSPORT_ALIASES, filesystem

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lfr_site.settings")

logger = logging.getLogger(__name__)


class _FileSystemChannel(filesystem.Channel):
    """kombu's file-system channel, made safe to crash and to share between threads.

    kombu creates a message file under its final name and then writes it, and reads
    without a lock, so a reader can take a file that is still empty, and a server
    killed mid-write leaves one behind. Either stopped the embedded worker for good
    ("Unrecoverable error: JSONDecodeError"), on every later start too. Here a message
    is written under a name the reader ignores and renamed into place (atomic), and a
    file that is not a message is logged and dropped instead of stopping the worker.
    """

    def _put(self, queue, payload, **kwargs):
        final = os.path.join(
            self.data_folder_out, f"{int(filesystem.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        )
        partial = f"{final}.part"
        try:
            with open(partial, "wb") as f:
                f.write(filesystem.str_to_bytes(filesystem.dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        while True:  # each bad file is removed as it is read, so this ends in Empty
            try:
                return super()._get(queue)
            except ValueError:
                logger.warning("dropped an unreadable message file of broker queue %s", queue)


class FileSystemTransport(filesystem.Transport):
    Channel = _FileSystemChannel


TRANSPORT_ALIASES["filesystem"] = "lfr_site.celery:FileSystemTransport"

app = Celery("lfr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class StreamRunnerStep(bootsteps.StartStopStep):
    """A worker that consumes the `streams` queue reads cameras (services.stream_runner).

    It runs in the worker's main process, whatever the pool: there Celery's warm shutdown
    flag is set, so SIGTERM ends every session at once and hands its camera over.
    """

    def __init__(self, worker, **kwargs):
        self.runner = None

    def start(self, worker):
        if "streams" not in worker.app.amqp.queues.consume_from:
            return
        from recognition.services.stream_runner import StreamRunner
        from recognition.tasks import _worker_stopping

        self.runner = StreamRunner(worker=worker.hostname, stopping=_worker_stopping).start()

    def stop(self, worker):
        if self.runner is not None:
            self.runner.stop()
            self.runner = None

    shutdown = stop


app.steps["worker"].add(StreamRunnerStep)


@setup_logging.connect
def keep_our_logging(**kwargs):
    """Settings' LOGGING rules workers and beat too (LOG_LEVEL, CELERY_LOG_LEVEL).

    Without a receiver Celery sets the root logger to its `-l` level (WARNING by default),
    which hid every INFO line of ours, a stream session's included, from a worker's log.
    """


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


@beat_init.connect
def run_every_job_at_start(sender=None, **kwargs):
    """Beat first sends a job one period after it starts: the hourly alert retention then
    left alerts past their deletion date "overdue" for an hour after every start. Every job
    is sent once now (they are all safe to repeat), then on its period from now on."""
    scheduler = sender.scheduler
    for name in sender.app.conf.beat_schedule:  # ours, not Celery's own daily cleanup
        entry = scheduler.schedule[name]
        scheduler.apply_entry(entry, producer=scheduler.producer)
        scheduler.reserve(entry)
