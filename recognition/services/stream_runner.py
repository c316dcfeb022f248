"""The stream worker's runner: claims camera leases and reads each on its own thread.

Every Celery worker that consumes the `streams` queue runs one (lfr_site.celery's
StreamRunnerStep, in the worker's main process, whatever its pool), and so does the
embedded worker of `manage.py lfr_demo`. Cameras are not Celery tasks: a task would have
to stay queued or unacknowledged for a whole deployment, hostage to the broker's
visibility timeout, a full pool and the broker being up. The runner instead polls the
database for claimable leases and takes up to LFR_STREAM_CAMERAS_PER_WORKER of them; a
worker already serving k cameras waits k polls before claiming another, so free workers
take new cameras first and N cameras spread over M workers.

Runners know each other through StreamWorker rows, beaten at every poll. Each computes
the fair share, ceil(live cameras / live workers): a runner above it while another has
room below it hands its surplus over exactly as on SIGTERM (those sessions end within a
frame and leave their leases claimable at once), and a runner at its share claims no
more while another has room. So a returning or new worker gets its share within a few
polls (REBALANCE_SECONDS bounds the wait between two hand-overs), and no camera is ever
read by two workers: a lease changes hands only through the conditional claim.

Stopping the worker (SIGTERM, Ctrl-C) ends every session within a frame and leaves its
lease claimable at once; another worker's runner takes it at its next poll.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from deployments.models import Deployment
from recognition.models import StreamLease, StreamWorker
from recognition.services.streams import (
    _claimable,
    _db_reset,
    holder_id,
    lease_claim,
    stream_slice_run,
)

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
# After handing cameras over, a runner waits this long before judging its share again:
# the others' counts lag until they have claimed what it released.
REBALANCE_SECONDS = 5.0


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


def live_stream_workers() -> list[StreamWorker]:
    """The runners that beat within the stale period, by name."""
    cutoff = timezone.now() - timedelta(seconds=settings.LFR_STREAM_LEASE_STALE_SECONDS)
    return list(StreamWorker.objects.filter(heartbeat_at__gte=cutoff).order_by("name"))


def stream_worker_beat(*, name: str, serving: int, capacity: int) -> list[StreamWorker]:
    """Record this runner as alive; the live runners (itself included)."""
    now = timezone.now()
    StreamWorker.objects.update_or_create(
        name=name, defaults={"serving": serving, "capacity": capacity, "heartbeat_at": now}
    )
    cutoff = now - timedelta(seconds=settings.LFR_STREAM_LEASE_STALE_SECONDS)
    StreamWorker.objects.filter(heartbeat_at__lt=cutoff).delete()  # died (SIGKILL)
    return live_stream_workers()


def stream_worker_leave(*, name: str) -> None:
    """A stopping runner: the others count without it at once."""
    StreamWorker.objects.filter(name=name).delete()


@dataclass
class Share:
    """What one runner should serve, judged from the live runners' last beats."""

    share: int  # ceil(live cameras / live runners)
    surplus: int  # cameras to hand over now
    may_claim: bool  # no other runner has room below the share


def share_judge(*, name: str, serving: int, workers: list[StreamWorker]) -> Share:
    # Cameras held or claimable now; not those whose session ended on an error and that
    # wait out the stale period before a retry (nobody can take them meanwhile).
    cameras = (
        StreamLease.objects.filter(stopped=False, deployment__state=Deployment.State.LIVE)
        .filter(Q(holder__gt="") | _claimable())
        .count()
    )
    share = math.ceil(cameras / max(len(workers), 1))
    room = sum(max(0, min(share, w.capacity) - w.serving) for w in workers if w.name != name)
    return Share(
        share=share,
        surplus=min(max(serving - share, 0), room),
        may_claim=serving < share or room == 0,
    )


class StreamRunner:
    """Claims up to `capacity` leases and runs one continuous session per camera."""

    def __init__(self, *, worker: str, capacity: int | None = None, poll: float = POLL_SECONDS,
                 stopping=lambda: False):  # fmt: skip
        self.worker = worker
        self.name = holder_id(worker)  # this runner's StreamWorker row
        self.capacity = settings.LFR_STREAM_CAMERAS_PER_WORKER if capacity is None else capacity
        self.poll = poll
        self._external_stop = stopping
        self._stop = threading.Event()
        self._sessions: dict[int, threading.Thread] = {}
        self._handing_over: set[int] = set()
        self._next_rebalance = 0.0
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
        logger.info("stream runner %s: up to %d cameras", self.name, self.capacity)
        next_claim = 0.0
        try:
            while not self._stop.wait(self.poll):
                if self.stopping():
                    break
                self._sessions = {pk: t for pk, t in self._sessions.items() if t.is_alive()}
                self._handing_over &= set(self._sessions)
                try:
                    judged = self._judge()
                    if (
                        not judged.may_claim
                        or len(self._sessions) >= self.capacity
                        or time.monotonic() < next_claim
                    ):
                        continue
                    claimed = self._claim_one()
                except DatabaseError as exc:
                    _db_reset()
                    logger.warning("stream runner: claim failed (%s)", type(exc).__name__)
                    continue
                if claimed:
                    # A busier worker waits longer before its next claim: free ones go first.
                    next_claim = time.monotonic() + self.poll * len(self._sessions)
        finally:
            try:
                stream_worker_leave(name=self.name)
            except DatabaseError:
                pass  # its row goes stale and the others stop counting it
            connection.close()

    def _judge(self) -> Share:
        """Beat, then hand over any surplus; whether this runner may claim now."""
        # Cameras being handed over still run for a frame: count them as gone already.
        serving = len(self._sessions) - len(self._handing_over)
        workers = stream_worker_beat(name=self.name, serving=serving, capacity=self.capacity)
        judged = share_judge(name=self.name, serving=serving, workers=workers)
        if judged.surplus and time.monotonic() >= self._next_rebalance:
            keep = [pk for pk in self._sessions if pk not in self._handing_over]
            for lease_id in keep[-judged.surplus :]:  # the newest claims: least warmed up
                logger.info("stream lease %s: handed over to rebalance", lease_id)
                self._handing_over.add(lease_id)
            self._next_rebalance = time.monotonic() + REBALANCE_SECONDS
        return judged

    def _claim_one(self) -> bool:
        for lease_id in claimable_lease_ids(exclude=[*self._sessions, *self._handing_over]):
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
                lease_id=lease_id,
                holder=holder,
                stopping=lambda: self.stopping() or lease_id in self._handing_over,
                claimed=True,
            )
            logger.info("stream lease %s: session ended (%s)", lease_id, outcome.reason)
        except Exception:
            logger.exception("stream lease %s: session failed", lease_id)
        finally:
            connection.close()
