"""Benchmarks of the engine: a video through the pipeline or the baseline loop, and matching.

Plain Python so it can run outside Django; the management commands only format.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from .baseline import BaselineLoop
from .faces import encode_reference
from .matching import Watchlist, naive_nearest
from .pipeline import Pipeline, PipelineConfig

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
Progress = Callable[[int, int], None] | None
MATCH_THRESHOLD = 0.6


def load_watchlist_dir(root: Path) -> tuple[np.ndarray, list[str], list[str]]:
    """(encodings, subject per row, images without a face) from one folder per subject."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"watchlist folder {root} does not exist")
    rows, labels, no_face = [], [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            encoding = encode_reference(path)
            if encoding is None:
                no_face.append(f"{folder.name}/{path.name}")
                continue
            rows.append(encoding)
            labels.append(folder.name)
    if not rows:
        raise ValueError(f"no usable reference face under {root}")
    return np.stack(rows).astype(np.float32), labels, no_face


def video_info(path: Path) -> tuple[int, float, int, int]:
    """(frame count, fps, width, height) as the container states them."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ValueError(f"cannot open video {Path(path).name}")
        return (
            int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
            float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
    finally:
        capture.release()


def _summary(frames, seconds, cpu_seconds, fps, detected, encoded, first_seen) -> dict:
    video_seconds = frames / fps if fps else 0.0
    return {
        "frames": frames,
        "seconds": round(seconds, 3),
        "video_seconds": round(video_seconds, 3),
        "realtime_factor": round(video_seconds / seconds, 3) if seconds else None,
        # CPU time of this process (all its threads): what one core would need, free of
        # the noise of other processes sharing the machine.
        "cpu_seconds": round(cpu_seconds, 3),
        "cpu_realtime_factor": round(video_seconds / cpu_seconds, 3) if cpu_seconds else None,
        "faces_detected": detected,
        "faces_encoded": encoded,
        "alerts": [
            {"subject": subject, "first_frame": frame}
            for subject, frame in sorted(first_seen.items(), key=lambda item: (item[1], item[0]))
        ],
    }


def run_pipeline(
    video: Path,
    encodings: np.ndarray,
    labels: list[str],
    threshold: float,
    config: PipelineConfig | None = None,
    progress: Progress = None,
) -> dict:
    """The production pipeline over the whole video, as fast as it goes (decode included)."""
    total, fps, _, _ = video_info(video)
    pipeline = Pipeline(Watchlist(encodings, labels), threshold, config or PipelineConfig())
    capture = cv2.VideoCapture(str(video))
    frames = detected = encoded = tracks = 0
    first_seen: dict[str, int] = {}
    events: list[str] = []  # one label per (track, subject) alert
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        while True:
            # Frames the detector skips are grabbed but not converted, as in production.
            if pipeline.needs_frame(frames):
                ok, frame = capture.read()
            else:
                ok, frame = capture.grab(), None
            if not ok:
                break
            result = pipeline.process(frame, frames, at=frames / fps if fps else None)
            detected += result.faces_detected
            encoded += result.faces_encoded
            tracks += result.new_tracks
            for match in result.matches:
                first_seen.setdefault(match.label, match.frame_no)
                if not match.resight:
                    events.append(match.label)
            frames += 1
            if progress and frames % 25 == 0:
                progress(frames, total)
    finally:
        capture.release()
    summary = _summary(
        frames,
        time.perf_counter() - started,
        time.process_time() - cpu_started,
        fps,
        detected,
        encoded,
        first_seen,
    )
    return summary | {"faces_seen": tracks, "alert_events": events}


def run_baseline(
    video: Path,
    encodings: np.ndarray,
    labels: list[str],
    max_frames: int | None = None,
    progress: Progress = None,
) -> dict:
    """The documented per-frame loop; with max_frames, timed on a prefix and extrapolated.

    When extrapolated, ``seconds`` is the prefix's time per frame times all frames, the
    counters are for the prefix only and ``measured_frames`` says how many were run.
    """
    total, fps, _, _ = video_info(video)
    loop = BaselineLoop(encodings, labels)
    capture = cv2.VideoCapture(str(video))
    frames = detected = encoded = 0
    first_seen: dict[str, int] = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        while max_frames is None or frames < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            found, matched = loop.process(frame)
            detected += found
            encoded += found
            for label in matched:
                first_seen.setdefault(label, frames)
            frames += 1
            if progress and frames % 5 == 0:
                progress(frames, min(total, max_frames or total))
        # Count the rest of the video without processing it, to extrapolate honestly.
        measured = frames
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        all_frames = measured
        while max_frames is not None and capture.grab():
            all_frames += 1
    finally:
        capture.release()
    if all_frames > measured and measured:
        seconds = seconds / measured * all_frames
        cpu_seconds = cpu_seconds / measured * all_frames
    result = _summary(all_frames, seconds, cpu_seconds, fps, detected, encoded, first_seen)
    result["measured_frames"] = measured
    result["extrapolated"] = all_frames > measured
    return result


def compare(pipeline_result: dict, baseline_result: dict) -> dict:
    """The baseline object of bench_stream's JSON: its figures plus the speed-up."""

    def ratio(key):
        ours = pipeline_result[key]
        return round(baseline_result[key] / ours, 2) if ours else None

    subjects = {a["subject"] for a in pipeline_result["alerts"]}
    baseline_subjects = {a["subject"] for a in baseline_result["alerts"]}
    return {
        **baseline_result,
        "speedup": ratio("seconds"),
        "cpu_speedup": ratio("cpu_seconds"),
        "same_alerts": subjects == baseline_subjects,
        # Subjects only one side alerted (e.g. faces too small for the baseline's HOG).
        "only_pipeline": sorted(subjects - baseline_subjects),
        "only_baseline": sorted(baseline_subjects - subjects),
    }


def random_unit_encodings(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((count, 128), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def bench_match(count: int, repeats: int = 20, naive_rows: int | None = None) -> dict:
    """Milliseconds to find one probe's nearest row among ``count`` encodings.

    naive: a per-row Python loop (timed on naive_rows rows and scaled when given);
    face_distance: the library's one-line numpy distance; ours: Watchlist.nearest.
    """
    from . import face_api

    matrix = random_unit_encodings(count)
    probe = matrix[count // 2] + np.float32(0.01)
    watchlist = Watchlist(matrix, list(range(count)))

    def best_ms(fn, times):
        best = float("inf")
        for _ in range(times):
            started = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - started)
        return best * 1000

    rows = min(naive_rows or count, count)
    naive_ms = best_ms(lambda: naive_nearest(matrix[:rows], probe), 1) * count / rows
    api = face_api()
    library_ms = best_ms(lambda: int(np.argmin(api.face_distance(matrix, probe))), 3)
    ours_ms = best_ms(lambda: watchlist.nearest(probe), repeats)
    row, _ = watchlist.nearest(probe)
    assert int(row[0]) == count // 2
    # The pipeline's question: which row, if any, is within the threshold.
    match_ms = best_ms(lambda: watchlist.match(probe, MATCH_THRESHOLD), repeats)
    stranger = random_unit_encodings(1, seed=count + 1)[0]
    stranger_ms = best_ms(lambda: watchlist.match(stranger, MATCH_THRESHOLD), repeats)
    row, _ = watchlist.match(probe, MATCH_THRESHOLD)
    assert int(row[0]) == count // 2
    assert int(watchlist.match(stranger, MATCH_THRESHOLD)[0][0]) == -1
    return {
        "encodings": count,
        "naive_ms": round(naive_ms, 2),
        "naive_extrapolated": rows < count,
        "face_distance_ms": round(library_ms, 2),
        "ours_ms": round(ours_ms, 3),
        "match_ms": round(match_ms, 3),
        "match_stranger_ms": round(stranger_ms, 3),
        "prefilter": watchlist._rotation is not None,
        "speedup_vs_naive": round(naive_ms / ours_ms, 1),
        "speedup_vs_face_distance": round(library_ms / ours_ms, 1),
        "match_speedup_vs_naive": round(naive_ms / max(match_ms, stranger_ms), 1),
    }
