"""Measure TPR, FPR and accuracy per threshold on labelled image pairs; store the run."""

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognition.engine.evaluation import PairsError, evaluate, parse_thresholds, read_pairs
from recognition.services.evaluation import evaluation_run_record

DEFAULT_PAIRS = Path(__file__).resolve().parents[2] / "data" / "pairs.csv"


class Command(BaseCommand):
    help = (
        "Evaluate the engine on a pairs CSV (file_x,file_y,decision Yes/No; a file is a "
        "path relative to --images or a file name unique inside it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
        parser.add_argument("--images", type=Path, default=Path(settings.LFR_DATA_DIR) / "faces")
        parser.add_argument("--thresholds", default="0.30:0.80:0.01")
        parser.add_argument(
            "--target-fmr",
            default="0,0.005,0.01,0.05",
            help="false-match rates to find the loosest threshold for (comma list)",
        )
        parser.add_argument("--json", type=Path, help="write the results here")
        parser.add_argument("--no-store", action="store_true", help="do not save an EvaluationRun")

    def handle(self, *args, **opts):
        operating = settings.LFR_THRESHOLD_DEFAULT
        try:
            thresholds = parse_thresholds(opts["thresholds"])
            targets = [float(v) for v in opts["target_fmr"].split(",") if v.strip()]
            pairs = read_pairs(opts["pairs"])
            result = evaluate(
                pairs,
                opts["images"],
                thresholds,
                operating,
                targets,
                progress=lambda msg: print(f"\r{msg}", end="", file=sys.stderr, flush=True),
            )
        except (PairsError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        print(file=sys.stderr)
        self._print(result)
        if opts["json"]:
            opts["json"].write_text(json.dumps(result, indent=2))
            self.stdout.write(f"wrote {opts['json']}")
        if not opts["no_store"]:
            dataset = (
                f"{opts['pairs'].name}: {result['genuine_pairs']} same-person and "
                f"{result['impostor_pairs']} different-person pairs of images under "
                f"{opts['images'].name}/"
            )
            run = evaluation_run_record(
                dataset=dataset, result=result, operating_threshold=operating
            )
            self.stdout.write(f"stored evaluation run {run.pk}")

    def _print(self, result):
        out = self.stdout
        out.write(
            f"{result['pairs']} pairs ({result['scored_pairs']} scored: "
            f"{result['genuine_pairs']} same person, {result['impostor_pairs']} different)"
        )
        out.write(f"{'threshold':>9}  {'TPR':>6}  {'FPR':>6}  {'accuracy':>8}")
        for row in result["thresholds"]:
            out.write(
                f"{row['threshold']:>9.2f}  {_pct(row['tpr'])}  {_pct(row['fpr'])}  "
                f"{_pct(row['accuracy']):>8}"
            )
        op = result["operating_point"]
        out.write(
            f"operating point {op['threshold']:.2f}: TPR {_pct(op['tpr'])}, "
            f"FPR {_pct(op['fpr'])}, accuracy {_pct(op['accuracy'])}"
        )
        for row in result["target_fmr"]:
            if row["threshold"] is None:
                out.write(f"false-match rate <= {row['target_fmr']:g}: no threshold on the grid")
            else:
                out.write(
                    f"false-match rate <= {row['target_fmr']:g}: up to {row['threshold']:.2f} "
                    f"(TPR {_pct(row['tpr'])}, FPR {_pct(row['fpr'])})"
                )
        out.write(
            f"closest different-person pair {result['closest_impostor']}, "
            f"farthest same-person pair {result['farthest_genuine']}"
        )
        out.write("no face found: " + (", ".join(result["no_face"]) or "none"))


def _pct(value) -> str:
    return "   n/a" if value is None else f"{value * 100:5.1f}%"
