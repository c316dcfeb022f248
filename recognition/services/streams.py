"""Stream leases: each live camera is read continuously by the worker holding its lease.

A stream worker (services.stream_runner) claims a lease (a conditional UPDATE checked by
row count) and keeps the camera open, with one pipeline and its tracks, for as long as
it holds it, heartbeating every HEARTBEAT_SECONDS. A reader thread hands the pipeline
the newest frame only: when recognition is slower than the camera, frames are dropped
and counted, never queued. A worker that stops hands its cameras over at once; one that
dies (SIGKILL) stops heartbeating, and after LFR_STREAM_LEASE_STALE_SECONDS any other
worker takes the camera and resumes file sources at the recorded position.

Non-matches leave nothing: frames and faces live only in this process's memory for the
length of one frame; only counters are written (frames, faces seen).
"""

import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from deployments.models import Deployment
from deployments.services import activation_window, window_blocker
from recognition.health import below_real_time
from recognition.models import Alert, StreamLease
from recognition.services.alerts import alert_raise

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
# A claim, release or alert that meets a locked (SQLite) or lost (PostgreSQL restart,
# terminated backend) database is tried again after each of these pauses.
DB_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)
_DB_TROUBLE = (OperationalError, InterfaceError)
# The longest pause between two attempts to reopen a camera. Every second a camera is up
# and unread is footage never analysed (issue 27: a 30 s ceiling left a returning camera
# unread for up to 26 s). Opening an RTSP camera and reading its first frame takes up to
# ~2 s more, so 2.5 s keeps a returning camera read within 5 s; a failed open every 2.5 s
# is cheap for a worker and a camera.
RECONNECT_MAX_SECONDS = 2.5


def holder_id(worker: str = "") -> str:
    """A name unique to one slice: the worker, its process, and a token (thread pools)."""
    return f"{worker or socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def _stale_cutoff():
    return timezone.now() - timedelta(seconds=settings.LFR_STREAM_LEASE_STALE_SECONDS)


def _db_reset() -> None:
    """Drop this thread's connection if an error left it unusable; the next query reconnects.

    A terminated PostgreSQL backend stays broken until closed (Celery closes connections
    only between tasks, and a slice is one long task); a locked SQLite connection is
    still usable and is kept.
    """
    if not connection.in_atomic_block:
        close_old_connections()


def _db_retry(what: str, fn, /, **kwargs):
    """fn(**kwargs), tried again with back-off while the database is locked or lost."""
    for delay in (*DB_RETRY_DELAYS, None):
        try:
            return fn(**kwargs)
        except _DB_TROUBLE as exc:
            _db_reset()
            if delay is None:
                raise
            logger.warning("stream %s failed (%s); retrying in %.1f s", what, exc, delay)
            time.sleep(delay)


# --- Supervision --------------------------------------------------------------------------


UNSERVED = "no stream worker is reading this camera (all busy, or none running)"


def streams_supervise() -> list[int]:
    """Make the leases match the live deployments; return the ids of unserved leases.

    A lease is unserved when no worker has read its camera for the stale period and it
    is claimable: its holder died, or every stream worker is full, or none runs.
    """
    wanted = set(
        Deployment.objects.filter(state=Deployment.State.LIVE, cameras__enabled=True)
        .values_list("pk", "cameras__pk")
        .distinct()
    )
    created = []
    have = {
        (lease.deployment_id, lease.camera_id): lease.pk
        for lease in StreamLease.objects.filter(deployment__state=Deployment.State.LIVE)
    }
    for deployment_id, camera_id in wanted - set(have):
        lease, new = StreamLease.objects.get_or_create(
            deployment_id=deployment_id, camera_id=camera_id
        )
        have[(deployment_id, camera_id)] = lease.pk
        if new:
            created.append(lease.pk)
    keep = [pk for key, pk in have.items() if key in wanted]
    # Deployment ended, camera disabled or removed: the holder sees `stopped` at its next
    # heartbeat and ends its slice without a successor.
    StreamLease.objects.filter(stopped=False).exclude(pk__in=keep).update(
        stopped=True, connected=False, fps_in=0, fps_processed=0
    )
    StreamLease.objects.filter(pk__in=keep, stopped=True).update(stopped=False)
    # A stopped lease whose holder died can never be released by it: show it free.
    StreamLease.objects.filter(stopped=True, heartbeat_at__lt=_stale_cutoff()).exclude(
        holder=""
    ).update(holder="")
    # Stream workers claim leases themselves (services.stream_runner); a camera no worker
    # has read for the stale period is an alarm on its lease, not a silent "not connected".
    stale = _stale_cutoff()
    unserved = (
        StreamLease.objects.filter(_claimable(), pk__in=keep)
        .filter(Q(last_frame_at__isnull=True) | Q(last_frame_at__lt=stale))
        .filter(Q(last_error="") | Q(last_error=UNSERVED) | Q(connected=True))
        .exclude(pk__in=created)
    )
    ids = list(unserved.order_by("pk").values_list("pk", flat=True))
    StreamLease.objects.filter(pk__in=ids).exclude(last_error=UNSERVED).update(
        last_error=UNSERVED, last_error_at=timezone.now()
    )
    StreamLease.objects.filter(pk__in=ids).update(
        connected=False, degraded=True, fps_in=0, fps_processed=0
    )
    return ids


# --- The lease ------------------------------------------------------------------------------


def _claimable() -> Q:
    # Never worked, handed over (no heartbeat), or silent for the stale period: a dead
    # holder, or a session that ended on an error and is due a retry.
    return Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_cutoff())


def lease_claim(*, lease_id: int, holder: str) -> bool:
    """Take the lease if it is claimable (see _claimable); True if we got it."""
    now = timezone.now()
    taken = StreamLease.objects.filter(_claimable(), pk=lease_id, stopped=False).update(
        holder=holder, heartbeat_at=now, slice_no=F("slice_no") + 1
    )
    return taken == 1


@dataclass
class _Tally:
    """Counts accumulated since the last heartbeat, flushed with F() so nothing is lost."""

    frames_in: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    # Frames up to the last one analysed: the ones whose fate (analysed or dropped) is known.
    frames_judged: int = 0
    reconnects: int = 0
    faces_seen: int = 0
    since: float = field(default_factory=time.monotonic)

    def rates(self) -> tuple[float, float]:
        elapsed = max(time.monotonic() - self.since, 1e-6)
        return round(self.frames_in / elapsed, 2), round(self.frames_processed / elapsed, 2)


@transaction.atomic
def lease_heartbeat(*, lease, holder: str, tally: _Tally, status: dict) -> bool:
    """Flush counters and status; False if the lease was lost or stopped meanwhile."""
    fps_in, fps_processed = tally.rates()
    counters = {
        "frames_in": F("frames_in") + tally.frames_in,
        "frames_processed": F("frames_processed") + tally.frames_processed,
        "frames_dropped": F("frames_dropped") + tally.frames_dropped,
        "reconnects": F("reconnects") + tally.reconnects,
        "faces_seen": F("faces_seen") + tally.faces_seen,
    }
    held = StreamLease.objects.filter(pk=lease.pk, holder=holder, stopped=False).update(
        heartbeat_at=timezone.now(),
        fps_in=fps_in,
        fps_processed=fps_processed,
        **counters,
        **status,
    )
    if not held:
        StreamLease.objects.filter(pk=lease.pk).update(**counters)
    if tally.faces_seen:
        Deployment.objects.filter(pk=lease.deployment_id).update(
            faces_seen=F("faces_seen") + tally.faces_seen
        )
    tally.frames_in = tally.frames_processed = tally.faces_seen = 0
    tally.frames_dropped = tally.frames_judged = tally.reconnects = 0
    tally.since = time.monotonic()
    return bool(held)


def lease_release(*, lease_id: int, holder: str, status: dict, handover: bool = False) -> None:
    """Free the lease. A hand-over (the worker stops) leaves it claimable at once; any
    other end (an error, the file over) only after the stale period, so it is not spun."""
    StreamLease.objects.filter(pk=lease_id, holder=holder).update(
        holder="",
        heartbeat_at=None if handover else timezone.now(),
        fps_in=0,
        fps_processed=0,
        **status,
    )


def _still_wanted(lease) -> bool:
    live = Deployment.objects.filter(pk=lease.deployment_id, state=Deployment.State.LIVE).first()
    return (
        live is not None
        and not window_blocker(live, timezone.now())
        and lease.deployment.cameras.filter(pk=lease.camera_id, enabled=True).exists()
    )


# --- One camera session ----------------------------------------------------------------------


@dataclass
class SliceOutcome:
    """How a session ended; `successor` says whether another worker should take over at once."""

    claimed: bool = False
    successor: bool = False
    reason: str = ""
    frames: int = 0
    alerts: int = 0


def stream_slice_run(
    *,
    lease_id: int,
    holder: str,
    seconds: float | None = None,
    stopping: Callable[[], bool] = lambda: False,
    claimed: bool = False,
) -> SliceOutcome:
    """Work one camera while this holder keeps its lease. Never raises for source trouble.

    The source, its reader and the pipeline (with its tracks) stay open for the whole
    session: it ends only when the deployment or camera stops, the window closes, the
    lease is lost, the worker stops (`stopping`), or after `seconds` when given (tests,
    benchmarks). A worker that stops hands the camera over at once (the lease is left
    claimable at once); any other end leaves it to be retried after the stale period.
    """
    outcome = SliceOutcome()
    if not claimed and not _db_retry("lease claim", lease_claim, lease_id=lease_id, holder=holder):
        outcome.reason = "not claimed"
        return outcome
    outcome.claimed = True
    status: dict = {}
    try:
        lease = _db_retry(
            "lease read",
            StreamLease.objects.select_related("deployment", "camera").get,
            pk=lease_id,
        )
        outcome.reason, outcome.successor = _work(lease, holder, status, outcome, seconds, stopping)
    except Exception as exc:
        # A bug or a broken model must not spin: no successor; the supervisor retries
        # once the lease looks stale. The message names the type only (no frame data).
        _error(status, f"slice failed: {type(exc).__name__}")
        outcome.reason, outcome.successor = "failed", False
        raise
    finally:
        # Nobody reads the camera between this release and the next claim: never shown
        # connected while it has no holder.
        status["connected"] = False
        _db_retry(
            "lease release",
            lease_release,
            lease_id=lease_id,
            holder=holder,
            status=status,
            handover=outcome.successor,
        )
    return outcome


def _error(status: dict, message: str) -> None:
    status.update(connected=False, last_error=message[:500], last_error_at=timezone.now())


def _pipeline_for(deployment):
    from recognition.engine.pipeline import Pipeline, PipelineConfig, Watchlist

    snapshot = getattr(deployment, "watchlist", None)
    if snapshot is None or snapshot.encodings is None or not snapshot.entry_ids:
        return None
    # Label = row index; alert_raise maps it back to (entry id, subject reference).
    watchlist = Watchlist.from_bytes(
        bytes(snapshot.encodings), list(range(len(snapshot.entry_ids)))
    )
    config = PipelineConfig(
        model=settings.LFR_DETECTOR,
        evidence_looks=settings.LFR_TRACK_EVIDENCE_LOOKS,
        # A subject in view is reported well within the sighting window, so it stays open.
        resight_seconds=min(
            PipelineConfig.resight_seconds, settings.LFR_SIGHTING_WINDOW_SECONDS / 2
        ),
    )
    return Pipeline(watchlist, deployment.threshold, config)


class _Health:
    """Latency samples and drop shares over the last few heartbeats (what `degraded` judges)."""

    WINDOW_BEATS = 5

    def __init__(self):
        self.latencies_ms: deque[float] = deque(maxlen=300)
        self.beats: deque[tuple[int, int, int]] = deque(maxlen=self.WINDOW_BEATS)

    def status(self, tally: _Tally) -> dict:
        self.beats.append((tally.frames_in, tally.frames_judged, tally.frames_dropped))
        read = sum(n for n, _, _ in self.beats)
        judged = sum(j for _, j, _ in self.beats)
        dropped = sum(d for _, _, d in self.beats)
        p95 = None
        if self.latencies_ms:
            ordered = sorted(self.latencies_ms)
            p95 = round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1)
        # Each dropped frame is one the detector's cadence wanted and never saw; only frames
        # up to the last one analysed are judged (the rest may still be). Frames read but
        # none judged over a whole window: one analysis outlasted it, so nothing kept up.
        if judged:
            share = round(1 - dropped / judged, 3)
        else:
            share = 0.0 if read and len(self.beats) == self.WINDOW_BEATS else None
        return {
            "latency_p95_ms": p95,
            "realtime_share": share,
            "degraded": below_real_time(share),
        }


def _work(lease, holder, status, outcome, seconds, stopping) -> tuple[str, bool]:
    from deployments.services.cameras import camera_policy
    from recognition.engine.sources import (
        WAITING,
        LatestFrameReader,
        SourceError,
        backoff_delays,
        open_source,
    )

    deployment, camera = lease.deployment, lease.camera
    # The activation rule, re-checked before the camera is opened and for every frame:
    # live or not, nothing is read outside the authorised window.
    outside = window_blocker(deployment, timezone.now())
    if outside:
        _error(status, f"not reading: {outside}")
        return "outside window", False
    window_end = activation_window(deployment)[1]
    if not _db_retry("deployment check", _still_wanted, lease=lease):
        return "not live", False
    pipeline = _db_retry("watchlist read", _pipeline_for, deployment=deployment)
    if pipeline is None:
        _error(status, "the frozen watchlist is not available")
        return "no watchlist", False
    every = pipeline.config.detect_every

    deadline = None if seconds is None else time.monotonic() + seconds
    tally = _Tally()
    health = _Health()
    next_beat = time.monotonic() + HEARTBEAT_SECONDS
    position = lease.position  # index in a file of the next frame; where a successor resumes
    delays = None
    alerts = _PendingAlerts()
    reader = None
    opened = 0
    read_before = 0  # reader.frames_in already added to the tally
    next_no = position  # frame numbers grow across reconnects: tracks survive a drop
    last_taken = None

    def beat() -> bool:
        nonlocal next_beat
        next_beat = time.monotonic() + HEARTBEAT_SECONDS
        status["position"] = position
        status.update(health.status(tally))
        try:
            return lease_heartbeat(lease=lease, holder=holder, tally=tally, status=status) and (
                _still_wanted(lease)
            )
        except DatabaseError as exc:
            # A locked or briefly unreachable database must not drop the camera: the
            # counts stay in the tally for the next beat; a long outage makes the lease
            # stale, and the next successful beat then finds it lost and stops.
            _db_reset()
            logger.warning("stream lease %s: heartbeat failed (%s)", lease.pk, type(exc).__name__)
            return True

    def beat_when_due() -> bool:
        return time.monotonic() < next_beat or beat()

    def back_off(error: str) -> bool:
        nonlocal delays
        _error(status, error)
        delays = delays or backoff_delays()
        pause = min(next(delays), RECONNECT_MAX_SECONDS)
        return _sleep(pause, deadline, beat_when_due, stopping)

    def count_reads() -> None:
        nonlocal read_before, position
        if reader is not None:
            # The newest frame read: a successor resumes there (older ones were dropped).
            position = reader.source.position
            tally.frames_in += reader.frames_in - read_before
            outcome.frames += reader.frames_in - read_before
            read_before = reader.frames_in

    try:
        while (deadline is None or time.monotonic() < deadline) and not stopping():
            if timezone.now() >= window_end:
                _error(status, "the authorised window ended")
                return "outside window", False
            if reader is None:
                try:
                    source = open_source(
                        camera.stream_url,
                        file_root=settings.LFR_CAMERA_FILE_ROOT,
                        start_frame=position,
                        loop=camera.loop,
                        policy=camera_policy(),
                    )
                except SourceError as exc:
                    if not back_off(str(exc)):
                        return "stopped", False
                    continue
                if opened:
                    tally.reconnects += 1
                opened += 1
                if not source.live:
                    next_no = position
                # A camera (or a looped file standing in for one) drops what recognition
                # cannot keep up with; a recording played once is analysed whole.
                reader = LatestFrameReader(
                    source, every=every, first_no=next_no, drop=source.live or camera.loop
                )
                read_before, delays = 0, None
                status.update(connected=True, last_error="", source_fps=source.fps)
            captured = reader.take(next_no, timeout=0.5)
            count_reads()
            if captured is WAITING:
                if not beat_when_due():
                    return "stopped", False
                continue
            if captured is None:
                live, error = reader.live, reader.error
                reader.close()
                reader = None
                if not live and not camera.loop:
                    # The file is over. No successor: the supervisor looks again once the
                    # lease is stale, which costs one short task per stale period.
                    _error(status, "end of file")
                    return "end of file", False
                if not back_off(error or "stream ended; reconnecting"):
                    return "stopped", False
                continue
            frame_no = captured.frame_no
            if last_taken is not None:
                # The detector wants one frame in `every`; any beyond that were never seen.
                tally.frames_dropped += max(0, frame_no - last_taken - every)
                tally.frames_judged += frame_no - last_taken
            last_taken = frame_no
            result = pipeline.process(captured.frame, frame_no, at=captured.captured_at)
            next_no = frame_no + every
            health.latencies_ms.append((time.time() - captured.captured_at) * 1000)
            tally.frames_processed += int(result.detected)
            tally.faces_seen += result.new_tracks
            frame_at = datetime.fromtimestamp(captured.captured_at, tz=UTC)
            status["last_frame_at"] = frame_at
            for match in result.matches:
                alerts.add(
                    deployment=deployment,
                    camera=camera,
                    row_label=int(match.label),
                    distance=match.distance,
                    crop_jpeg=match.crop_jpeg,
                    # Tracks live as long as the session; its number keeps ids unique.
                    track_id=f"{lease.slice_no}-{match.track_id}",
                    frame_at=frame_at,
                )
            outcome.alerts += alerts.flush()
            if not beat_when_due():
                return "stopped", False
        return ("worker stopping" if stopping() else "slice over"), True
    finally:
        if reader is not None:
            reader.close()
            count_reads()
        outcome.alerts += alerts.flush(final=True)
        if alerts.pending:
            # Said loudly, on the camera's status and in the log: never dropped silently.
            _error(
                status, f"{len(alerts.pending)} alert(s) could not be written: database unavailable"
            )
            logger.error("stream lease %s: %s", lease.pk, status["last_error"])
        status["position"] = position
        status.update(health.status(tally))
        _db_retry(
            "heartbeat", lease_heartbeat, lease=lease, holder=holder, tally=tally, status=status
        )


class _PendingAlerts:
    """Matches waiting to be written as alerts, in order, while the database is away.

    Only matches are ever held (their crop is evidence); a write that failed is tried
    again with back-off on later frames and, for the last time, when the slice ends.
    """

    def __init__(self):
        self.pending: list[dict] = []
        self._delays = None
        self._next_try = 0.0
        self._failed = False

    def add(self, **alert):
        self.pending.append(alert)

    def flush(self, final: bool = False) -> int:
        """Write what is pending, oldest first; the number written.

        During the slice a failure waits for the next back-off step (frames go on);
        at the end (final) the back-off is slept through, bounded by DB_RETRY_DELAYS.
        """
        written = 0
        final_delays = iter(DB_RETRY_DELAYS)
        while self.pending and (final or time.monotonic() >= self._next_try):
            try:
                written += self._write_first()
            except _DB_TROUBLE as exc:
                _db_reset()
                self._failed = True
                logger.warning("alert write failed (%s); %d pending", exc, len(self.pending))
                if not final:
                    self._delays = self._delays or iter(DB_RETRY_DELAYS)
                    self._next_try = time.monotonic() + next(self._delays, DB_RETRY_DELAYS[-1])
                    return written
                delay = next(final_delays, None)
                if delay is None:
                    return written
                time.sleep(delay)
        self._delays = None
        return written

    def _write_first(self) -> int:
        alert = self.pending[0]
        # After a failure the write may have committed all the same (the connection died
        # after COMMIT reached the server): look before writing it twice.
        if not (self._failed and _alert_exists(alert)):
            alert_raise(**alert)
        self.pending.pop(0)
        self._failed = False
        return 1


def _alert_exists(alert: dict) -> bool:
    return Alert.objects.filter(
        deployment=alert["deployment"],
        camera=alert["camera"],
        track_id=alert["track_id"],
        frame_at=alert["frame_at"],
    ).exists()


def _sleep(seconds: float, deadline: float | None, beat, stopping) -> bool:
    """Back off without letting the lease go stale; False if the session must stop."""
    end = time.monotonic() + seconds
    if deadline is not None:
        end = min(end, deadline)
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0 or stopping():
            return True
        time.sleep(min(remaining, 0.5))
        if not beat():
            return False
