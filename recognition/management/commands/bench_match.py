"""Time matching one probe against N watchlist encodings: per-row loop, library, ours."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognition.engine import bench

DEFAULT_SIZES = "16000,100000,1000000"
# A per-row Python loop over 1M rows takes seconds; it is timed on this many rows and
# scaled linearly (it is linear), which the table says.
DEFAULT_NAIVE_ROWS = 100_000


def run(sizes: list[int], naive_rows: int) -> list[dict]:
    rows = []
    for size in sizes:
        print(f"  matching against {size:,} encodings ...", file=sys.stderr, flush=True)
        rows.append(bench.bench_match(size, naive_rows=naive_rows))
    return rows


def table(rows: list[dict]) -> list[str]:
    head = (
        f"{'encodings':>10} {'per-row loop':>12} {'face_distance':>13} {'ours nearest':>12} "
        f"{'ours match':>10} {'no match':>8} {'x loop':>7} {'x face_distance':>15}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        naive = f"{r['naive_ms']:.0f}{'*' if r['naive_extrapolated'] else ''}"
        match = max(r["match_ms"], r["match_stranger_ms"])
        lines.append(
            f"{r['encodings']:>10,} {naive:>12} {r['face_distance_ms']:>13.1f} "
            f"{r['ours_ms']:>12.2f} {r['match_ms']:>10.2f} {r['match_stranger_ms']:>8.2f} "
            f"{r['naive_ms'] / match:>7.0f} {r['face_distance_ms'] / match:>15.1f}"
        )
    lines += [
        "milliseconds for one probe against random unit float32 encodings, best of several "
        "runs; goal <= 25 ms at 1M",
        "ours nearest: exact nearest row, one pass over the matrix; ours match: the "
        "pipeline's question (nearest row within 0.6, if any), with the principal-component "
        "prefilter on >= 200k rows; 'no match': the same for a probe matching nothing; "
        "ratios use the slower of the two",
    ]
    if any(r["naive_extrapolated"] for r in rows):
        lines.append("* per-row loop timed on its first 100k rows and scaled linearly")
    return lines


class Command(BaseCommand):
    help = "Benchmark nearest-neighbour matching of one probe against N encodings."

    def add_arguments(self, parser):
        parser.add_argument("--sizes", default=DEFAULT_SIZES)
        parser.add_argument("--naive-rows", type=int, default=DEFAULT_NAIVE_ROWS)
        parser.add_argument("--json", type=Path)

    def handle(self, *args, **opts):
        try:
            sizes = [int(v) for v in opts["sizes"].split(",") if v.strip()]
        except ValueError:
            raise CommandError("--sizes takes a comma list of integers") from None
        rows = run(sizes, opts["naive_rows"])
        for line in table(rows):
            self.stdout.write(line)
        if opts["json"]:
            opts["json"].write_text(json.dumps(rows, indent=2))
