"""Run the whole product in one process: ASGI server, Celery worker and beat.

This is the embedded default's answer to the in-process channel layer: alerts raised by
the worker and the websockets that push them share one process, so they share a layer.

Nothing here starts a child process, so nothing can outlive the server, however it
dies. Celery's `beat=True` would run beat as a forked process that a crash or SIGKILL
leaves orphaned (parent PID 1), still sending tasks into var/broker and holding the
schedule file; beat runs as a thread instead (celery's own threaded EmbeddedService).
A thread needs no Linux-only parent-death signal and dies with the process by
construction. What a crash leaves under var/ is safe to start on: the database is
kept, queued broker messages are consumed (claims make a repeated slice harmless), and
beat's schedule file is reopened, or recreated by celery if a crash corrupted it.
"""

import os
import signal
import socket
import threading

from django.conf import settings
from django.core.management import BaseCommand


class Command(BaseCommand):
    help = "Serve lfr with an embedded Celery worker and beat (the demo / embedded default)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--concurrency", type=int, default=4)

    def handle(self, *args, host, port, concurrency, **options):
        # Ctrl-C stops everything, however the server was started. A background job of a
        # non-interactive shell (CI, `make demo &`) inherits SIGINT ignored, and Twisted
        # only takes SIGINT over from Python's default handler: without this line such a
        # server ignored Ctrl-C for good.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from celery.beat import EmbeddedService
        from celery.worker import WorkController
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from lfr_site.asgi import application
        from lfr_site.celery import app

        settings.LFR_EMBEDDED_WORKER = True
        app.loader.import_default_modules()
        worker = WorkController(
            app=app,
            hostname=f"embedded@{socket.gethostname()}",
            pool_cls="threads",
            concurrency=concurrency,
            queues=["default", "streams"],
            without_mingle=True,
            without_gossip=True,
            loglevel="WARNING",
        )
        beat = EmbeddedService(app, thread=True, schedule_filename=app.conf.beat_schedule_filename)
        thread = threading.Thread(target=worker.start, name="celery-embedded", daemon=True)
        thread.start()
        beat.start()
        self.stdout.write(self.style.SUCCESS(f"lfr is running at http://{host}:{port}/"))
        self.stdout.write("Embedded worker and beat are running in this process. Ctrl-C stops all.")
        if settings.LFR_AUDIT_KEY_GENERATED:
            self.stdout.write(
                f"Audit chain key: generated into {settings.VAR_DIR / 'audit_key'} (mode 0600, "
                "demo only; production refuses to start without LFR_AUDIT_KEY). Signed "
                f"checkpoints of the chain: {settings.LFR_AUDIT_CHECKPOINT_FILE}"
            )
        self.stdout.write(
            f"Request bodies over {settings.LFR_MAX_REQUEST_BYTES // (1024 * 1024)} MiB are "
            "refused with 413 (LFR_MAX_REQUEST_BYTES)."
        )
        try:
            Server(
                application=application,
                endpoints=build_endpoint_description_strings(host=host, port=port),
                signal_handlers=True,
            ).run()
        finally:
            from celery.worker import state

            # Ask running stream slices to end within a frame instead of finishing their slice.
            state.should_stop = 0
            # Not beat.stop(): it waits without a bound for a beat that may never have
            # opened its schedule. Beat ticks at least once a second, so this is short.
            beat.service.stop()
            beat.join(timeout=5)
            worker.stop(in_sighandler=False)
