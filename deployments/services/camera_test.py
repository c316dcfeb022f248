"""An administrator's camera test: open a URL, read one frame, say what came back.

Nothing is stored: the frame is measured and dropped (no image leaves this module), and
the audit row keeps only the redacted URL and the outcome. The URL passes the same one
source rule as registration (`check_source`, inside `open_source`), so a test cannot
read a file a camera could not name. It answers within `LFR_CAMERA_TEST_SECONDS` however
the source behaves: OpenCV's own open and read timeouts are longer and cannot be cut
short, so the probe runs in a thread and a source still silent at the deadline is
reported as such (the thread ends on OpenCV's timeout and releases the source).
"""

import threading
import time
from pathlib import Path

from django.conf import settings

from core import access
from core.services import audit_record
from recognition.engine.sources import SourceError, open_source, redact


def _probe(url: str, file_root: Path, result: dict) -> None:
    started = time.monotonic()
    try:
        with open_source(url, file_root=file_root) as source:
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
    """Open `stream_url`, read one frame; {ok, width, height, fps, seconds} or {ok, error}."""
    access.require(by, "camera", "test", camera)
    url = (stream_url or "").strip()
    limit = settings.LFR_CAMERA_TEST_SECONDS
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
        result = {"ok": False, "error": f"{redact(url)} gave no frame within {limit} s"}
        result["seconds"] = float(limit)
    else:
        result = dict(result)
    result["url"] = redact(url)
    audit_record(
        actor=by,
        action="camera.test",
        obj=camera,
        object_type="" if camera is not None else "camera",
        details={
            k: v for k, v in result.items() if k in {"url", "ok", "error", "width", "height", "fps"}
        },
    )
    return result
