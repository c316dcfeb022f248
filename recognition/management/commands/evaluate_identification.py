"""Measure open-set 1:N identification (TPIR, FPIR, FMR bound per threshold); store the run."""

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognition.engine import identification as ident
from recognition.engine.evaluation import PairsError, parse_thresholds
from recognition.selectors import largest_authorised_watchlist
from recognition.services.evaluation import (
    identification_dataset,
    identification_operating_point,
    identification_run_record,
)


class Command(BaseCommand):
    help = (
        "Search every image of --probes (one folder per identity) against --gallery (the "
        "same layout): probe identities present in the gallery are mated searches, the "
        "others non-mated. Prints TPIR, FPIR and the false-match bound per threshold."
    )

    def add_arguments(self, parser):
        parser.add_argument("--gallery", type=Path)
        parser.add_argument("--probes", type=Path)
        parser.add_argument("--thresholds", default="0.30:0.70:0.01")
        parser.add_argument(
            "--watchlist-size",
            type=int,
            help="the operating point is chosen for this size (default: the largest "
            "authorised watchlist, or 1,000 when none is)",
        )
        parser.add_argument("--json", type=Path, help="write the results here")
        parser.add_argument("--no-store", action="store_true", help="do not save the run")
        parser.add_argument(
            "--synthetic",
            type=int,
            metavar="N",
            help="instead of images: time N synthetic gallery identities against N "
            "synthetic strangers (N*N impostor comparisons); nothing is stored",
        )

    def handle(self, *args, **opts):
        try:
            thresholds = parse_thresholds(opts["thresholds"])
        except PairsError as exc:
            raise CommandError(str(exc)) from None
        if opts["synthetic"]:
            return self._synthetic(opts["synthetic"], thresholds)
        if not (opts["gallery"] and opts["probes"]):
            raise CommandError("give --gallery DIR and --probes DIR (or --synthetic N)")
        size = opts["watchlist_size"] or largest_authorised_watchlist()
        if size < 1:
            raise CommandError("--watchlist-size must be at least 1")
        started = time.monotonic()
        try:
            result = ident.evaluate_folders(
                opts["gallery"],
                opts["probes"],
                thresholds,
                progress=lambda msg: print(f"\r{msg}   ", end="", file=sys.stderr, flush=True),
            )
        except (ident.IdentificationError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        print(file=sys.stderr)
        result["seconds"] = round(time.monotonic() - started, 1)
        result["operating_point"] = identification_operating_point(result, watchlist_size=size)
        self._print(result)
        if opts["json"]:
            opts["json"].write_text(json.dumps(result, indent=2))
            self.stdout.write(f"wrote {opts['json']}")
        if not opts["no_store"]:
            where = f"gallery {opts['gallery'].name}/, probes {opts['probes'].name}/"
            dataset = identification_dataset(result, where)
            run = identification_run_record(
                dataset=dataset, result=result, operating_point=result["operating_point"]
            )
            self.stdout.write(f"stored evaluation run {run.pk}")

    def _synthetic(self, n, thresholds):
        gallery = ident.synthetic_encodings(n, 1, seed=1)
        strangers = [(f"x{i}", e) for i, (_, e) in enumerate(ident.synthetic_encodings(n, 1, 2))]
        started, cpu = time.monotonic(), time.process_time()
        result = ident.identify(
            gallery,
            strangers,
            thresholds,
            progress=lambda msg: print(f"\r{msg}   ", end="", file=sys.stderr, flush=True),
        )
        print(file=sys.stderr)
        self.stdout.write(
            f"{result['comparisons']:,} synthetic impostor comparisons at {len(thresholds)} "
            f"thresholds: {time.monotonic() - started:.2f} s elapsed, "
            f"{time.process_time() - cpu:.2f} s CPU"
        )

    def _print(self, result):
        out = self.stdout
        out.write(
            f"{result['identities']} gallery identities ({result['gallery_images']} images); "
            f"{result['mated']} mated searches ({result['mated_no_face']} without a face, "
            f"counted as misses), {result['non_mated']} non-mated "
            f"({result['non_mated_no_face']} without a face, left out); "
            f"{result['comparisons']:,} impostor comparisons; {result['seconds']} s"
        )
        out.write(
            f"intervals: {result['interval_method']}, {result['confidence']:.0%} "
            "(TPIR, FPIR two-sided; FMR one-sided upper)"
        )
        sizes = "".join(f"  {f'FPIR<= @{n:,}':>15}" for n in ident.WATCHLIST_SIZES)
        out.write(
            f"{'thr':>5}  {'TPIR':>6} {'[95% CI]':>15}  {'wrong':>5}  {'FPIR':>6} "
            f"{'[95% CI]':>15}  {'FM/comparisons':>16}  {'FMR<=':>8}{sizes}"
        )
        for row in result["thresholds"]:
            fm = f"{row['false_matches']}/{result['comparisons']}"
            out.write(
                f"{row['threshold']:>5.2f}  {_pct(row['tpir'])} {_ci(row['tpir_interval'])}  "
                f"{row['wrong_identity_alerts']:>5}  {_pct(row['fpir'])} "
                f"{_ci(row['fpir_interval'])}  "
                f"{fm:>16}  "
                f"{_num(row['fmr_upper']):>8}"
                + "".join(
                    f"  {_pct(row['implied_fpir'][str(n)]):>15}" for n in ident.WATCHLIST_SIZES
                )
            )
        out.write(f"operating point: {result['operating_point']['words']}")
        out.write("no face found: " + (", ".join(result["no_face"]) or "none"))


def _pct(value) -> str:
    return "   n/a" if value is None else f"{value * 100:5.1f}%"


def _ci(pair) -> str:
    return f"{'n/a':>15}" if pair is None else f"[{pair[0] * 100:5.1f}, {pair[1] * 100:5.1f}]%"


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.2g}"
