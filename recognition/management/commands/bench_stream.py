"""Run the production pipeline (and optionally the library's baseline loop) over a video."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognition.engine import bench
from recognition.engine.baseline import BASELINE_TOLERANCE
from recognition.engine.pipeline import PipelineConfig


def progress_printer(label: str):
    def show(done: int, total: int) -> None:
        print(f"\r  {label}: frame {done}/{total}", end="", file=sys.stderr, flush=True)

    return show


def run(video: Path, watchlist: Path, *, baseline: bool, baseline_frames, threshold, config):
    """bench_stream's result dict (also used by bench_all)."""
    encodings, labels, no_face = bench.load_watchlist_dir(watchlist)
    if no_face:
        print(f"  no face found in {', '.join(no_face)} (left out)", file=sys.stderr)
    result = bench.run_pipeline(
        video, encodings, labels, threshold, config, progress=progress_printer("pipeline")
    )
    print(file=sys.stderr)
    if baseline:
        base = bench.run_baseline(
            video, encodings, labels, baseline_frames, progress=progress_printer("baseline")
        )
        print(file=sys.stderr)
        result["baseline"] = bench.compare(result, base)
    return result


def table(rows: list[tuple[str, dict]]) -> list[str]:
    """A readable table of bench_stream results, pipeline and baseline per video."""
    head = (
        f"{'run':<38} {'frames':>6} {'wall s':>7} {'x realtime':>10} {'cpu s':>7} "
        f"{'x rt (cpu)':>10} {'detected':>8} {'encoded':>7} {'speed-up':>8} {'(cpu)':>7}"
        "  alerts (subject@first frame)"
    )
    lines = [head, "-" * len(head)]
    for name, result in rows:
        for kind, data in (("pipeline", result), ("baseline", result.get("baseline"))):
            if data is None:
                continue
            label = f"{name} {kind}"
            if data.get("extrapolated"):
                label += f" ({data['measured_frames']}f*)"
            alerts = ", ".join(f"{a['subject']}@{a['first_frame']}" for a in data["alerts"])
            speed = f"{data['speedup']:.1f}x" if data.get("speedup") else ""
            cpu_speed = f"{data['cpu_speedup']:.1f}x" if data.get("cpu_speedup") else ""
            lines.append(
                f"{label:<38} {data['frames']:>6} {data['seconds']:>7.2f} "
                f"{data['realtime_factor'] or 0:>10.2f} {data['cpu_seconds']:>7.2f} "
                f"{data['cpu_realtime_factor'] or 0:>10.2f} {data['faces_detected']:>8} "
                f"{data['faces_encoded']:>7} {speed:>8} {cpu_speed:>7}  {alerts or 'none'}"
            )
        base = result.get("baseline")
        if base:
            verdict = "yes" if base["same_alerts"] else "no"
            if base["only_pipeline"]:
                verdict += f"; only the pipeline alerted {', '.join(base['only_pipeline'])}"
            if base["only_baseline"]:
                verdict += f"; only the baseline alerted {', '.join(base['only_baseline'])}"
            lines.append(f"{'':<38} same alerts as the baseline: {verdict}")
    if any((r.get("baseline") or {}).get("extrapolated") for _, r in rows):
        lines.append(
            "* baseline timed on its first N frames only and extrapolated to the whole "
            "video; its counters and alerts are for those frames"
        )
    lines.append(
        "wall s: elapsed time on this (shared) machine; cpu s: this process's CPU time, "
        "i.e. what one core needs"
    )
    return lines


class Command(BaseCommand):
    help = "Benchmark the recognition pipeline on a video against a folder-per-subject watchlist."

    def add_arguments(self, parser):
        parser.add_argument("--video", type=Path, required=True)
        parser.add_argument("--watchlist", type=Path, required=True, help="one folder per subject")
        parser.add_argument("--json", type=Path, help="write the results here")
        parser.add_argument("--baseline", action="store_true", help="also run the library loop")
        parser.add_argument(
            "--baseline-frames",
            type=int,
            default=None,
            help="time the baseline on this many first frames and extrapolate",
        )
        parser.add_argument(
            "--threshold",
            type=float,
            default=BASELINE_TOLERANCE,
            help="match distance (default: the library's 0.6, so alerts compare like for like)",
        )
        parser.add_argument("--detect-every", type=int, default=PipelineConfig.detect_every)
        parser.add_argument("--detect-width", type=int, default=PipelineConfig.detect_max_width)
        parser.add_argument("--upsample", type=int, default=PipelineConfig.upsample)
        parser.add_argument("--detector", choices=["yunet", "hog"], default=PipelineConfig.model)
        parser.add_argument("--evidence-looks", type=int, default=PipelineConfig.evidence_looks)

    def handle(self, *args, **opts):
        if not opts["video"].is_file():
            raise CommandError(f"video {opts['video']} not found")
        config = PipelineConfig(
            detect_every=opts["detect_every"],
            detect_max_width=opts["detect_width"],
            detect_min_width=opts["detect_width"],
            upsample=opts["upsample"],
            model=opts["detector"],
            evidence_looks=opts["evidence_looks"],
        )
        try:
            result = run(
                opts["video"],
                opts["watchlist"],
                baseline=opts["baseline"],
                baseline_frames=opts["baseline_frames"],
                threshold=opts["threshold"],
                config=config,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for line in table([(opts["video"].name, result)]):
            self.stdout.write(line)
        if opts["json"]:
            opts["json"].write_text(json.dumps(result, indent=2))
            self.stdout.write(f"wrote {opts['json']}")
