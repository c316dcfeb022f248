"""The stream worker's runner: claims camera leases and reads each on its own thread.

Every Celery worker that consumes the `streams` queue runs one (lfr_site.celery's
StreamRunnerStep, in the worker's main process, whatever its pool), and so does the
embedded worker of `manage.py lfr_demo`. Cameras are not Celery tasks: a task would have
to stay queued or unacknowledged for a whole deployment, hostage to the broker's
visibility timeout, a full pool and the broker being up. The runner instead polls the
database for claimable leases and takes up to LFR_STREAM_CAMERAS_PER_WORKER of them; a
worker already serving k cameras waits k polls before claiming another, so free workers
take new cameras first and N cameras spread over M workers.

Stopping the worker (SIGTERM, Ctrl-C) ends every session within a frame and leaves its
lease claimable at once; another worker's runner takes it at its next poll.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection

from deployments.models import Deployment
from recognition.models import StreamLease
from recognition.services.streams import (
    _claimable,
    _db_reset,
    holder_id,
    lease_claim,
    stream_slice_run,
)

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0


def claimable_lease_ids(*, exclude=(), limit: int = 10) -> list[int]:
    """Leases of live deployments a worker may claim now, the longest-unread first."""
    from django.db.models import F

    return list(
        StreamLease.objects.filter(
            _claimable(), stopped=False, deployment__state=Deployment.State.LIVE
        )
        .exclude(pk__in=list(exclude))
        .order_by(F("heartbeat_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )


class StreamRunner:
    """Claims up to `capacity` leases and runs one continuous session per camera."""

    def __init__(self, *, worker: str, capacity: int | None = None, poll: float = POLL_SECONDS,
                 stopping=lambda: False):  # fmt: skip
        self.worker = worker
        self.capacity = settings.LFR_STREAM_CAMERAS_PER_WORKER if capacity is None else capacity
        self.poll = poll
        self._external_stop = stopping
        self._stop = threading.Event()
        self._sessions: dict[int, threading.Thread] = {}
        self._thread: threading.Thread | None = None

    def stopping(self) -> bool:
        return self._stop.is_set() or self._external_stop()

    def start(self) -> "StreamRunner":
        self._thread = threading.Thread(target=self._loop, name="stream-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """End every session (each releases its lease for another worker) and wait."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in [self._thread, *self._sessions.values()]:
            if thread is not None:
                thread.join(max(deadline - time.monotonic(), 0))

    @property
    def serving(self) -> list[int]:
        return [pk for pk, thread in self._sessions.items() if thread.is_alive()]

    def _loop(self) -> None:
        next_claim = 0.0
        try:
            while not self._stop.wait(self.poll):
                if self.stopping():
                    break
                self._sessions = {pk: t for pk, t in self._sessions.items() if t.is_alive()}
                if len(self._sessions) >= self.capacity or time.monotonic() < next_claim:
                    continue
                try:
                    claimed = self._claim_one()
                except DatabaseError as exc:
                    _db_reset()
                    logger.warning("stream runner: claim failed (%s)", type(exc).__name__)
                    continue
                if claimed:
                    # A busier worker waits longer before its next claim: free ones go first.
                    next_claim = time.monotonic() + self.poll * len(self._sessions)
        finally:
            connection.close()

    def _claim_one(self) -> bool:
        for lease_id in claimable_lease_ids(exclude=self._sessions):
            holder = holder_id(self.worker)
            if lease_claim(lease_id=lease_id, holder=holder):
                thread = threading.Thread(
                    target=self._session,
                    args=(lease_id, holder),
                    name=f"stream-lease-{lease_id}",
                    daemon=True,
                )
                self._sessions[lease_id] = thread
                thread.start()
                return True
        return False

    def _session(self, lease_id: int, holder: str) -> None:
        try:
            outcome = stream_slice_run(
                lease_id=lease_id, holder=holder, stopping=self.stopping, claimed=True
            )
            logger.info("stream lease %s: session ended (%s)", lease_id, outcome.reason)
        except Exception:
            logger.exception("stream lease %s: session failed", lease_id)
        finally:
            connection.close()
