"""`make bench`: stream benchmarks (640x360 clip and a 1080p copy), matching, alert delivery."""

import json
import sys
import tempfile
from pathlib import Path

import cv2
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from recognition.engine.baseline import BASELINE_TOLERANCE
from recognition.engine.pipeline import PipelineConfig
from recognition.management.commands import bench_match, bench_stream

EXAMPLES = ("faces", "face_recognition", "examples")
CLIP = "short_hamilton_clip.mp4"
WATCHLISTS = {
    "hamilton": {
        "lin-manuel-miranda": "lin-manuel-miranda.png",
        "alex-lacamoire": "alex-lacamoire.png",
    },
    "obama+biden": {"obama": "obama.jpg", "biden": "biden.jpg"},
}
# The baseline needs ~1 s per 1080p frame on one core: timed on this prefix, extrapolated.
BASELINE_1080P_FRAMES = 60


def upscale(video: Path, out: Path, size=(1920, 1080)) -> Path:
    """A copy of the video upscaled (bicubic) to 1080p, written with OpenCV's MPEG-4."""
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            writer.write(cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC))
    finally:
        capture.release()
        writer.release()
    return out


def subject_folders(root: Path, examples: Path, subjects: dict) -> Path:
    for subject, file in subjects.items():
        (root / subject).mkdir(parents=True)
        (root / subject / file).symlink_to(examples / file)
    return root


class Command(BaseCommand):
    help = "Run every benchmark and print one table (benchmarks report; they never fail)."

    def add_arguments(self, parser):
        parser.add_argument("--json", type=Path, help="write all results here")
        parser.add_argument("--skip-match", action="store_true")
        parser.add_argument("--skip-alerts", action="store_true")

    def handle(self, *args, **opts):
        examples = Path(settings.LFR_DATA_DIR, *EXAMPLES)
        clip = examples / CLIP
        config = PipelineConfig()
        results: dict = {"threshold": BASELINE_TOLERANCE, "config": config.__dict__}
        lines: list[str] = []
        with tempfile.TemporaryDirectory(prefix="lfr-bench-") as tmp:
            tmp = Path(tmp)
            hamilton = subject_folders(tmp / "hamilton", examples, WATCHLISTS["hamilton"])
            others = subject_folders(tmp / "others", examples, WATCHLISTS["obama+biden"])
            print("making the 1080p copy ...", file=sys.stderr, flush=True)
            clip_1080 = upscale(clip, tmp / "short_hamilton_clip_1080p.mp4")
            runs = [
                ("640x360 hamilton", clip, hamilton, True, None),
                ("1080p hamilton", clip_1080, hamilton, True, BASELINE_1080P_FRAMES),
                ("640x360 obama+biden", clip, others, False, None),
                ("1080p obama+biden", clip_1080, others, False, None),
            ]
            stream_rows = []
            for name, video, watchlist, baseline, frames in runs:
                print(f"{name}:", file=sys.stderr, flush=True)
                result = bench_stream.run(
                    video,
                    watchlist,
                    baseline=baseline,
                    baseline_frames=frames,
                    threshold=BASELINE_TOLERANCE,
                    config=config,
                )
                stream_rows.append((name, result))
            results["streams"] = dict(stream_rows)
        lines += [
            f"== bench_stream (threshold {BASELINE_TOLERANCE}, the baseline's; pipeline "
            f"detects every {config.detect_every} frames at {config.detect_max_width} px "
            f"wide, upsampling every {config.small_face_every}th pass)",
            *bench_stream.table(stream_rows),
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
