"""The engine called from several threads of one process at once (the embedded default).

dlib's detector, shape predictors and encoder are shared objects that are not safe to
call concurrently: before the engine's lock, a watchlist intake check running beside a
stream pipeline killed the process with "double free or corruption", "munmap_chunk():
invalid pointer" or a segmentation fault. A native crash kills the interpreter, so the
workload runs in a child process (`python -m tests.test_engine_threads SECONDS`) and the
test asserts that it exits 0 with the results a single thread gets.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path("faces", "face_recognition", "examples")
LIMITS = {"max_bytes": 10 * 2**20, "max_pixels": 40_000_000, "min_face_px": 80}
# Accepted portraits and one refused photo (two faces), so both paths of the check run.
INTAKE_IMAGES = ("obama.jpg", "biden.jpg", "lin-manuel-miranda.png", "two_people.jpg")


def _intake_once(name: str, data: bytes):
    from recognition.engine.intake import IntakeError, inspect_image

    try:
        result = inspect_image(data, **LIMITS)
    except IntakeError as exc:
        return name, exc.rule, None
    return name, "ok", result.encoding.tobytes()


def workload(data_dir: Path, seconds: float, intake_threads: int = 2) -> dict:
    """Intake checks and a stream pipeline side by side for `seconds`; what each produced."""
    import cv2
    import numpy as np

    from recognition.engine.faces import encode_reference
    from recognition.engine.pipeline import Pipeline, PipelineConfig, Watchlist

    examples = data_dir / EXAMPLES
    images = {name: (examples / name).read_bytes() for name in INTAKE_IMAGES}
    # What one thread alone gets: the concurrent runs must give exactly the same.
    expected = {name: _intake_once(name, data)[1:] for name, data in images.items()}
    names = ["lin-manuel-miranda", "alex-lacamoire"]
    watchlist = Watchlist(np.stack([encode_reference(examples / f"{n}.png") for n in names]), names)
    deadline = time.monotonic() + seconds
    report = {"intake_runs": 0, "intake_wrong": [], "clip_passes": 0, "frames": 0}
    matched: set = set()
    errors: list = []
    lock = threading.Lock()

    def stream():
        # Detect on every frame, so dlib is busy all the time.
        config = PipelineConfig(detect_every=1, small_face_every=2)
        while time.monotonic() < deadline:
            capture = cv2.VideoCapture(str(examples / "short_hamilton_clip.mp4"))
            pipeline = Pipeline(watchlist, 0.6, config)
            frame_no = 0
            while time.monotonic() < deadline:
                ok, frame = capture.read()
                if not ok:
                    break
                result = pipeline.process(frame, frame_no)
                frame_no += 1
                matched.update(m.label for m in result.matches)
            capture.release()
            with lock:
                report["frames"] += frame_no
                report["clip_passes"] += 1

    def intake(offset: int):
        i = offset
        while time.monotonic() < deadline:
            name = INTAKE_IMAGES[i % len(INTAKE_IMAGES)]
            i += 1
            got = _intake_once(name, images[name])[1:]
            with lock:
                report["intake_runs"] += 1
                if got != expected[name]:
                    report["intake_wrong"].append(name)

    def guarded(fn, *args):
        try:
            fn(*args)
        except Exception as exc:  # reported, so the parent sees more than a failed count
            errors.append(f"{fn.__name__}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=guarded, args=(stream,))]
    threads += [threading.Thread(target=guarded, args=(intake, n)) for n in range(intake_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report["matched"] = sorted(matched)
    report["errors"] = errors
    report["expected"] = {name: rule for name, (rule, _) in expected.items()}
    return report


def run_child(data_dir, seconds: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.test_engine_threads", str(data_dir), str(seconds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )


@pytest.mark.slow
def test_it_survives_intake_checks_beside_a_stream_pipeline(settings):
    child = run_child(Path(settings.LFR_DATA_DIR), 10)
    assert child.returncode == 0, f"child died ({child.returncode}): {child.stderr[-800:]}"
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["expected"] == {
        "obama.jpg": "ok",
        "biden.jpg": "ok",
        "lin-manuel-miranda.png": "ok",
        "two_people.jpg": "multiple_faces",
    }
    assert report["intake_wrong"] == []
    # Both sides really ran side by side (each intake check is a few dlib calls of up
    # to a second; a frame is a detection pass plus encodes).
    assert report["intake_runs"] >= 3
    assert report["frames"] >= 2
    assert "lin-manuel-miranda" in report["matched"]


class _Spy:
    """Stands in for one dlib model; records whether DLIB_LOCK was held at each call."""

    def __init__(self, real, held: list):
        self.real, self.held = real, held

    def __call__(self, *args, **kwargs):
        return self._record(self.real, *args, **kwargs)

    def run(self, *args, **kwargs):
        return self._record(self.real.run, *args, **kwargs)

    def compute_face_descriptor(self, *args, **kwargs):
        return self._record(self.real.compute_face_descriptor, *args, **kwargs)

    def _record(self, fn, *args, **kwargs):
        from recognition.engine import DLIB_LOCK

        self.held.append(DLIB_LOCK._is_owned())
        return fn(*args, **kwargs)


MODELS = ("face_detector", "pose_predictor_5_point", "pose_predictor_68_point", "face_encoder")


@pytest.mark.slow
def test_it_calls_every_dlib_model_under_the_lock(monkeypatch):
    import cv2

    from recognition.engine import face_api
    from recognition.engine.baseline import BaselineLoop
    from recognition.engine.faces import encode_reference
    from recognition.engine.intake import inspect_image
    from recognition.engine.pipeline import Pipeline, PipelineConfig, Watchlist
    from tests.helpers import faces

    api = face_api().api
    held: list = []
    for name in MODELS:
        monkeypatch.setattr(api, name, _Spy(getattr(api, name), held))
    obama = faces("examples", "obama.jpg")
    inspect_image(obama.read_bytes(), **LIMITS)  # intake: face_recognition's functions
    encoding = encode_reference(obama)  # faces.detect and faces.encode
    frame = cv2.imread(str(obama))
    Pipeline(Watchlist(encoding[None, :], ["obama"]), 0.6, PipelineConfig()).process(frame, 0)
    assert BaselineLoop(encoding[None, :], ["obama"]).process(frame)[1] == ["obama"]
    assert len(held) >= 10
    assert all(held)


def test_it_frees_the_lock_in_a_child_forked_while_a_thread_held_it():
    import os

    from recognition.engine import DLIB_LOCK

    holding, done = threading.Event(), threading.Event()

    def hold():
        with DLIB_LOCK:
            holding.set()
            done.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        pid = os.fork()
        if pid == 0:  # the child: exit 0 only if it can take the lock
            os._exit(0 if DLIB_LOCK.acquire(timeout=3) else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        done.set()
        holder.join()
    assert os.waitstatus_to_exitcode(status) == 0


if __name__ == "__main__":
    data_dir, seconds = Path(sys.argv[1]), float(sys.argv[2])
    print(json.dumps(workload(data_dir, seconds)), flush=True)
