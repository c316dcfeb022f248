"""Video sources through OpenCV: a file under a root folder, HTTP MJPEG, RTSP."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from recognition.engine.netguard import Relay, connect_check

NETWORK_SCHEMES = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322}
# What FFmpeg may do for any source, network or file: network streams reach it through
# netguard's Relay as plain tcp/http/rtsp (RTP interleaved on the RTSP connection, so no
# UDP to wherever the camera says), files through "file"; and only container formats
# that name no other resource: no HLS/DASH playlists, concat lists or SDP files, whose
# entries FFmpeg would fetch from anywhere. OpenCV reads this variable at every open.
FFMPEG_OPTIONS = "|".join(
    [
        "rtsp_transport;tcp",
        "protocol_whitelist;file,tcp,http,rtsp",
        "format_whitelist;"
        "mov,mp4,matroska,webm,avi,mpegts,mpeg,flv,asf,h264,hevc,mjpeg,mpjpeg,jpeg_pipe,rtsp",
    ]
)
OPEN_TIMEOUT_MS = 10_000
READ_TIMEOUT_MS = 10_000


class SourceError(Exception):
    """A source cannot be opened or read; the message says why, without credentials."""


def redact(url: str) -> str:
    """The URL without user:password, for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


class VideoSource:
    """Frames in order from an opened cv2.VideoCapture.

    ``frame_no`` grows monotonically (also across loops of a file); ``position`` is the
    index in the file of the next frame, where a hand-over to another worker resumes.
    """

    def __init__(
        self,
        capture,
        *,
        name: str,
        live: bool,
        start_frame: int = 0,
        loop: bool = False,
        on_close=None,
    ):
        self._capture = capture
        self._on_close = on_close
        self.name = name
        self.live = live
        self.loop = loop
        fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        self.fps = float(fps) if 0 < fps < 1000 else 0.0
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0
        self.frame_count = int(count) if not live and count > 0 else 0
        self.position = start_frame
        self._next_no = start_frame

    def read(self, decode: bool = True) -> tuple[int, np.ndarray | None] | None:
        """(frame_no, BGR frame) or None at the end of a file / when a stream drops.

        With decode=False the frame is only grabbed (no colour conversion) and None is
        returned in its place: for frames the pipeline will not look at.
        """
        ok = self._capture.grab()
        if not ok and self.loop and not self.live and self.position > 0:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self.position = 0
            ok = self._capture.grab()
        if not ok:
            return None
        frame = None
        if decode:
            ok, frame = self._capture.retrieve()
            if not ok:
                return None
        frame_no = self._next_no
        self._next_no += 1
        self.position += 1
        return frame_no, frame

    def close(self) -> None:
        self._capture.release()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class Captured:
    """A frame handed to recognition: its number, pixels, capture time and the file position."""

    frame_no: int
    frame: np.ndarray
    captured_at: float  # time.time() when the frame came off the source
    position: int  # VideoSource.position after this frame (where a hand-over resumes)


WAITING = object()  # take(): no new frame yet, ask again


class LatestFrameReader:
    """Reads a source on its own thread and hands recognition only the newest frame.

    A camera goes on producing while recognition works on a frame; what it produced
    meanwhile is overwritten here, never queued, so the frame analysed is always the
    newest and the capture-to-analysis latency cannot grow. `take(first)` returns the
    newest decoded frame numbered `first` or later. Only frames that may be taken are
    decoded: the first eligible one when recognition is waiting, otherwise one in
    `every`, so a busy consumer does not pay for colour conversion of frames it skips.

    File sources are paced at their frame rate, as a camera would deliver them. With
    drop=False (a recording analysed once, not a camera) nothing is dropped: the reader
    waits until each frame recognition may take has been taken.
    The reader thread alone touches the capture; it closes the source when it ends.
    """

    def __init__(self, source, *, every: int = 1, first_no: int | None = None, drop: bool = True):
        self.source = source
        self.drop = drop
        # Numbers go on from `first_no` across reconnects (the tracker needs them to grow).
        self._renumber_from = first_no
        self.every = max(int(every), 1)
        self.frames_in = 0  # frames read from the source (written by the reader thread only)
        self.error: str = ""
        self._cond = threading.Condition()
        self._latest: Captured | None = None
        self._first = 0
        self._waiting = False
        self._ended = False
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, name=f"reader {getattr(source, 'name', '')}", daemon=True
        )
        self._thread.start()

    def _decode_next(self, candidate: int | None) -> bool:
        with self._cond:
            first, waiting = self._first, self._waiting
        if candidate is None:
            return True
        return candidate >= first and (waiting or (candidate - first) % self.every == 0)

    def _run(self) -> None:
        source = self.source
        pace = not source.live and source.fps > 0
        started, first_no, candidate = None, None, None
        try:
            while not self._closing:
                item = source.read(decode=self._decode_next(candidate))
                if item is None:
                    break
                frame_no, frame = item
                if self._renumber_from is not None:
                    frame_no = self._renumber_from + self.frames_in
                now = time.time()
                self.frames_in += 1
                candidate = frame_no + 1
                if pace:
                    if started is None:
                        started, first_no = time.monotonic(), frame_no
                    due = started + (frame_no - first_no) / source.fps
                    if due > time.monotonic():
                        time.sleep(due - time.monotonic())
                        now = time.time()
                if frame is None:
                    continue
                with self._cond:
                    if frame_no >= self._first:
                        self._latest = Captured(frame_no, frame, now, source.position)
                        self._cond.notify_all()
                    while not self.drop and self._latest is not None and not self._closing:
                        self._cond.wait(0.5)
        except Exception as exc:  # a decoder failure ends the stream like a drop does
            self.error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()
            source.close()

    def take(self, first: int = 0, timeout: float = 0.5):
        """The newest frame numbered `first` or later; WAITING if none came within
        `timeout`; None once the source has ended (a file's end, a dropped stream)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._first = first
            self._waiting = True
            try:
                while True:
                    latest = self._latest
                    if latest is not None:
                        self._latest = None
                        self._cond.notify_all()
                        if latest.frame_no >= first:
                            return latest
                    if self._ended:
                        return None
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return WAITING
                    self._cond.wait(remaining)
            finally:
                self._waiting = False

    @property
    def live(self) -> bool:
        return self.source.live

    def close(self, timeout: float = 1.0) -> None:
        """Stop reading; the thread closes the source (at most one read timeout later)."""
        self._closing = True
        self._thread.join(timeout)


def check_source(url: str, *, file_root: Path) -> Path | None:
    """The one rule for what a camera may name, checked without opening it.

    A network stream (http(s) MJPEG, rtsp(s)) with a host name, or a video file, as a plain
    path or ``file:``, that resolves inside ``file_root``: links are followed, so one
    pointing out of the folder is refused, and ``..`` is refused outright. Returns the
    resolved file, or None for a network stream; raises SourceError saying why not.
    Registration calls it, and so does every open (a link may change after registration).
    """
    url = (url or "").strip()
    if not url:
        raise SourceError("a stream URL or file path is required")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in NETWORK_SCHEMES:
        if not parts.hostname:
            raise SourceError(f"the stream URL {redact(url)!r} has no host name")
        return None
    if scheme not in ("", "file"):
        raise SourceError(
            f"unsupported source scheme {scheme!r} (use a file inside the camera folder, "
            "http(s) or rtsp(s))"
        )
    raw = parts.path if scheme == "file" else url
    root = Path(file_root).resolve()
    candidate = Path(raw)
    path = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if ".." in candidate.parts or not path.is_relative_to(root):
        raise SourceError(f"file {raw!r} is outside the allowed camera file folder")
    if not path.is_file():
        raise SourceError(f"file {raw!r} does not exist in the camera file folder")
    return path


def _ffmpeg_options() -> None:
    # Set before any capture opens (here at import): setenv racing another thread's
    # getenv inside OpenCV is unsafe; re-set only if something changed it since.
    if os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS") != FFMPEG_OPTIONS:
        os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = FFMPEG_OPTIONS


_ffmpeg_options()


def _capture(target: str, *params):
    _ffmpeg_options()
    return cv2.VideoCapture(target, cv2.CAP_FFMPEG, *params)


def open_source(
    url: str, *, file_root: Path, start_frame: int = 0, loop: bool = False, policy=None
) -> VideoSource:
    """Open a camera URL: ``file:`` or a plain path (inside file_root), http(s), rtsp(s).

    A network stream is opened through a `Relay` to the address `connect_check` resolved
    and checked against `policy` (netguard's; None: the strictest).
    """
    path = check_source(url, file_root=file_root)
    if path is not None:
        capture = _capture(str(path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot decode {path.name} as video")
        if start_frame:
            capture.set(cv2.CAP_PROP_POS_FRAMES, start_frame)
        return VideoSource(capture, name=path.name, live=False, start_frame=start_frame, loop=loop)
    # SSRF: the resolved addresses checked, and the connection made to one of them only.
    address = connect_check(url, error=SourceError, policy=policy)
    relay = Relay(url, address)
    capture = _capture(
        relay.url,
        [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            OPEN_TIMEOUT_MS,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            READ_TIMEOUT_MS,
        ],
    )
    if not capture.isOpened():
        capture.release()
        relay.close()
        why = f" (it answered with {relay.refused}, which is not followed)" if relay.refused else ""
        raise SourceError(f"{redact(url)} answered but no video could be decoded from it{why}")
    return VideoSource(capture, name=redact(url), live=True, on_close=relay.close)


def backoff_delays(base: float = 1.0, cap: float = 30.0) -> Iterator[float]:
    """Reconnect delays: exponential up to ``cap``, with jitter so cameras don't stampede."""
    attempt = 0
    while True:
        ceiling = min(cap, base * (2**attempt))
        yield ceiling / 2 + random.uniform(0, ceiling / 2)
        attempt = min(attempt + 1, 30)
