"""An administrator's camera test: open a URL, read one frame, say what came back.

Nothing is stored: the frame is measured and dropped (no image leaves this module), and
the audit row keeps only the redacted URL and the outcome. The URL passes the same one
source rule as registration (`check_source`, inside `open_source`), so a test cannot
read a file a camera could not name. It answers within `LFR_CAMERA_TEST_SECONDS` however
the source behaves: OpenCV's own open and read timeouts are longer and cannot be cut
short, so the probe runs in a thread and a source still silent at the deadline is
reported as such (the thread ends on OpenCV's timeout and releases the source).

It is no port scanner: a URL the camera rules refuse as written is told why at once, but
every other failure (no such host, closed port, an answer that is not video, a redirect,
silence) gets the one message `FAILED`, at the deadline, so neither the words nor the
time tell an open port from a closed one; the cause goes to the audit row only. An
administrator may run `LFR_CAMERA_TESTS_PER_MINUTE` tests a minute.
"""

import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import access
from core.models import AuditEvent
from core.services import audit_record
from deployments.services.cameras import camera_policy, camera_validate_stream_url
from recognition.engine.sources import SourceError, open_source, redact

FAILED = "No frame came from this camera: it is unreachable, refused, or did not answer with video."


class CameraTestThrottled(Exception):
    """Too many camera tests by one administrator within a minute."""


def _probe(url: str, file_root: Path, result: dict) -> None:
    started = time.monotonic()
    try:
        with open_source(url, file_root=file_root, policy=camera_policy()) as source:
            read = source.read()
            if read is None:
                raise SourceError(f"{redact(url)} opened but delivered no frame")
            frame = read[1]
            result.update(
                ok=True,
                width=int(frame.shape[1]),
                height=int(frame.shape[0]),
                fps=round(source.fps, 2) or None,
                live=source.live,
            )
            del frame
    except SourceError as exc:
        result.update(ok=False, error=str(exc))
    except Exception as exc:  # OpenCV raises plain cv2.error and others; report, never crash
        result.update(ok=False, error=f"{redact(url)}: {type(exc).__name__}: {exc}")
    result["seconds"] = round(time.monotonic() - started, 2)


def camera_url_test(*, by, stream_url: str, camera=None) -> dict:
    """Open `stream_url`, read one frame; {ok, width, height, fps, seconds} or {ok, error}.

    CameraTestThrottled past `LFR_CAMERA_TESTS_PER_MINUTE` tests by `by` in a minute.
    """
    access.require(by, "camera", "test")
    since = timezone.now() - timedelta(minutes=1)
    recent = AuditEvent.objects.filter(
        action="camera.test", actor_id=by.pk, outcome="allowed", at__gte=since
    )
    if recent.count() >= settings.LFR_CAMERA_TESTS_PER_MINUTE:
        raise CameraTestThrottled(
            f"At most {settings.LFR_CAMERA_TESTS_PER_MINUTE} camera tests a minute: "
            "wait a little and try again."
        )
    url = (stream_url or "").strip()
    limit = settings.LFR_CAMERA_TEST_SECONDS
    started = time.monotonic()
    try:
        camera_validate_stream_url(url)
    except ValidationError as exc:
        result = {"ok": False, "error": exc.messages[0], "seconds": 0.0}
    else:
        result = _run_probe(url, limit)
    if not result["ok"] and "cause" in result:
        time.sleep(max(0.0, limit - (time.monotonic() - started)))  # no timing oracle
        result.update(error=FAILED, seconds=float(limit))
    result["url"] = redact(url)
    audit_record(
        actor=by,
        action="camera.test",
        obj=camera,
        object_type="" if camera is not None else "camera",
        details={
            k: v
            for k, v in result.items()
            if k in {"url", "ok", "error", "cause", "width", "height", "fps"}
        },
    )
    result.pop("cause", None)
    return result


def _run_probe(url: str, limit: float) -> dict:
    """The probe's result, or a failure whose `cause` is for the audit row only."""
    result: dict = {}
    worker = threading.Thread(
        target=_probe,
        args=(url, Path(settings.LFR_CAMERA_FILE_ROOT), result),
        name="camera-test",
        daemon=True,
    )
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        return {"ok": False, "cause": f"{redact(url)} gave no frame within {limit} s"}
    result = dict(result)
    if not result.get("ok"):
        result["cause"] = result.pop("error", "")
    return result
