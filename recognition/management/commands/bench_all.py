"""`make bench`: stream benchmarks (640x360 clip and a 1080p small-faces video) for the
pipeline with YuNet and HOG, with and without track evidence, and the naive loop;
matching; alert delivery."""

import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from recognition.engine import bench
from recognition.engine.baseline import BASELINE_TOLERANCE
from recognition.engine.pipeline import PipelineConfig
from recognition.management.commands import bench_match

CLIP = "short_hamilton_clip.mp4"
# One watchlist for every run: the two people of the Hamilton clip, and eight people who
# are not in it (any alert on them is false), paths under LFR_DATA_DIR/faces.
IN_CLIP = {
    "lin-manuel-miranda": "face_recognition/examples/lin-manuel-miranda.png",
    "alex-lacamoire": "face_recognition/examples/alex-lacamoire.png",
}
NOT_IN_CLIP = {
    "obama": "face_recognition/examples/obama.jpg",
    "biden": "face_recognition/examples/biden.jpg",
    "kit-harington": "face_recognition/examples/knn_examples/train/kit_harington/john1.jpeg",
    "rose-leslie": "face_recognition/examples/knn_examples/train/rose_leslie/img1.jpg",
    "clapton": "openface/images/examples/clapton-1.jpg",
    "lennon": "openface/images/examples/lennon-1.jpg",
    "adams": "openface/images/examples/adams.jpg",
    "carell": "openface/images/examples/carell.jpg",
}
# The naive loop needs ~1 s per 1080p frame on one core: timed on this prefix, extrapolated.
BASELINE_1080P_FRAMES = 30
LOOSE = 0.7
# The small-faces video: the clip at these scales side by side in a 1080p frame (faces
# ~100 px down to ~8 px wide; the clip's faces are 23-100 px).
MOSAIC = ((1.0, 0, 0), (0.6, 0, 700), (0.4, 500, 0), (0.3, 500, 700))  # scale, top, left


def upscale(video: Path, out: Path, size=(1920, 1080)) -> Path:
    """A copy of the video upscaled (bicubic) to 1080p, written with OpenCV's MPEG-4."""
    return _rewrite(
        video, out, size, lambda frame: cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)
    )


def small_faces_video(video: Path, out: Path) -> Path:
    """A 1080p video of the clip at four scales (MOSAIC) on grey: faces from ~8 px."""

    def compose(frame):
        canvas = np.full((1080, 1920, 3), 90, np.uint8)
        for scale, top, left in MOSAIC:
            small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
        return canvas

    return _rewrite(video, out, (1920, 1080), compose)


def _rewrite(video: Path, out: Path, size, transform) -> Path:
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            writer.write(transform(frame))
    finally:
        capture.release()
        writer.release()
    return out


def subject_folders(root: Path, faces: Path, subjects: dict) -> Path:
    for subject, file in subjects.items():
        (root / subject).mkdir(parents=True)
        (root / subject / Path(file).name).symlink_to(faces / file)
    return root


def _row(video: str, method: str, data: dict) -> dict:
    alerted = {a["subject"] for a in data["alerts"]}
    events = data.get("alert_events")
    frames = data.get("measured_frames") or data["frames"]
    cpu = data["cpu_seconds"] / data["frames"] * 1000 if data["frames"] else 0.0
    return {
        "video": video,
        "method": method,
        "frames": frames,
        "cpu_ms_per_frame": round(cpu, 1),
        "faces_detected": data["faces_detected"],
        "faces_seen": data.get("faces_seen"),
        "faces_encoded": data["faces_encoded"],
        "people_alerted": sorted(alerted & set(IN_CLIP)),
        "false_alerts": len([e for e in events if e not in IN_CLIP])
        if events is not None
        else len(alerted - set(IN_CLIP)),
        "true_alerts": len([e for e in events if e in IN_CLIP]) if events is not None else None,
    }


def table(rows: list[dict]) -> list[str]:
    head = (
        f"{'video':<22} {'method':<30} {'frames':>6} {'cpu ms/f':>8} {'faces':>6} "
        f"{'seen':>5} {'encoded':>7} {'true':>5} {'false':>5}  people alerted"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        seen = "" if r["faces_seen"] is None else r["faces_seen"]
        true = "" if r["true_alerts"] is None else r["true_alerts"]
        lines.append(
            f"{r['video']:<22} {r['method']:<30} {r['frames']:>6} {r['cpu_ms_per_frame']:>8} "
            f"{r['faces_detected']:>6} {seen:>5} {r['faces_encoded']:>7} {true:>5} "
            f"{r['false_alerts']:>5}  {', '.join(r['people_alerted']) or 'none'}"
        )
    return lines


class Command(BaseCommand):
    help = "Run every benchmark and print one table (benchmarks report; they never fail)."

    def add_arguments(self, parser):
        parser.add_argument("--json", type=Path, help="write all results here")
        parser.add_argument("--skip-match", action="store_true")
        parser.add_argument("--skip-alerts", action="store_true")

    def handle(self, *args, **opts):
        faces = Path(settings.LFR_DATA_DIR, "faces")
        clip = faces / "face_recognition" / "examples" / CLIP
        threshold = BASELINE_TOLERANCE
        yunet, hog = PipelineConfig(model="yunet"), PipelineConfig(model="hog")
        two = PipelineConfig(model="yunet", evidence_looks=2)
        methods = [
            ("pipeline yunet", yunet, threshold),
            ("pipeline yunet, 2 looks", two, threshold),
            ("pipeline hog", hog, threshold),
            ("pipeline hog, 2 looks", PipelineConfig(model="hog", evidence_looks=2), threshold),
            # A loose threshold, to see what evidence does where false matches happen.
            (f"pipeline yunet @{LOOSE}", yunet, LOOSE),
            (f"pipeline yunet, 2 looks @{LOOSE}", two, LOOSE),
        ]
        results: dict = {
            "threshold": threshold,
            "configs": {m: c.__dict__ | {"threshold": t} for m, c, t in methods},
        }
        rows: list[dict] = []
        with tempfile.TemporaryDirectory(prefix="lfr-bench-") as tmp:
            tmp = Path(tmp)
            watchlist = subject_folders(tmp / "watchlist", faces, IN_CLIP | NOT_IN_CLIP)
            encodings, labels, no_face = bench.load_watchlist_dir(watchlist)
            if no_face:
                print(f"no face in {', '.join(no_face)} (left out)", file=sys.stderr)
            print("making the 1080p small-faces video ...", file=sys.stderr, flush=True)
            mosaic = small_faces_video(clip, tmp / "hamilton_small_faces_1080p.mp4")
            for name, video, frames in (
                ("640x360 hamilton", clip, None),
                ("1080p small faces", mosaic, BASELINE_1080P_FRAMES),
            ):
                for method, config, at in methods:
                    print(f"{name}: {method}", file=sys.stderr, flush=True)
                    data = bench.run_pipeline(video, encodings, labels, at, config)
                    rows.append(_row(name, method, data))
                print(f"{name}: naive loop", file=sys.stderr, flush=True)
                data = bench.run_baseline(video, encodings, labels, frames)
                label = "naive loop" + (f" ({frames} frames*)" if data["extrapolated"] else "")
                rows.append(_row(name, label, data))
        results["streams"] = rows
        lines = [
            f"== streams: one watchlist of {len(IN_CLIP)} people in the clip and "
            f"{len(NOT_IN_CLIP)} who are not (any alert on them is false), threshold "
            f"{threshold} (the naive loop's) unless marked; detection every "
            f"{PipelineConfig.detect_every} frames at <= {PipelineConfig.detect_max_width} px",
            *table(rows),
            "faces: detections summed over the frames looked at; seen: tracks (people "
            "followed); true/false: alerts per (track, subject), the naive loop's per frame "
            "when not deduplicated; cpu ms/f: this process's CPU time per video frame",
            "* the naive loop timed on its first frames and extrapolated; its counts are "
            "for those frames",
            "",
        ]
        if not opts["skip_match"]:
            match_rows = bench_match.run(
                [16_000, 100_000, 1_000_000], bench_match.DEFAULT_NAIVE_ROWS
            )
            results["match"] = match_rows
            lines += ["== matching one probe", *bench_match.table(match_rows), ""]
        for line in lines:
            self.stdout.write(line)
        if not opts["skip_alerts"]:
            self.stdout.write("== bench_alerts")
            call_command("bench_alerts", stdout=self.stdout, stderr=self.stderr)
        if opts["json"]:
            opts["json"].write_text(json.dumps(results, indent=2, default=str))
            self.stdout.write(f"wrote {opts['json']}")
