"""Accuracy of the engine on labelled image pairs: TPR, FPR and accuracy per threshold.

A pair names two images and whether they show the same person (``Yes``/``No``). Each
image is encoded once; a pair whose image has no detectable face is left out of the rates
and its file reported under ``no_face``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .faces import encode_reference

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


class PairsError(ValueError):
    """The pairs file or the image folder cannot be used; the message says why."""


@dataclass(frozen=True)
class Pair:
    """Two image references and whether they show the same person."""

    file_x: str
    file_y: str
    same: bool


def parse_thresholds(spec: str) -> list[float]:
    """``start:stop:step`` (stop included) or a comma list, rounded to 4 places."""
    try:
        if ":" in spec:
            start, stop, step = (float(part) for part in spec.split(":"))
            if step <= 0 or stop < start:
                raise ValueError
            count = int(round((stop - start) / step)) + 1
            values = [start + i * step for i in range(count)]
        else:
            values = [float(part) for part in spec.split(",") if part.strip()]
    except ValueError:
        raise PairsError(f"bad thresholds {spec!r}: use start:stop:step or a,b,c") from None
    if not values or any(not 0 < v < 2 for v in values):
        raise PairsError(f"thresholds must lie in (0, 2): {spec!r}")
    return [round(v, 4) for v in values]


def read_pairs(path: Path) -> list[Pair]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"file_x", "file_y", "decision"} - set(reader.fieldnames or [])
            if missing:
                raise PairsError(f"{path.name} lacks column(s) {', '.join(sorted(missing))}")
            pairs = []
            for line, row in enumerate(reader, start=2):
                decision = row["decision"].strip().lower()
                if decision not in ("yes", "no"):
                    raise PairsError(f"{path.name} line {line}: decision must be Yes or No")
                pairs.append(Pair(row["file_x"].strip(), row["file_y"].strip(), decision == "yes"))
    except OSError as exc:
        raise PairsError(f"cannot read pairs file: {exc.strerror}") from None
    if not pairs:
        raise PairsError(f"{path.name} holds no pairs")
    return pairs


def resolve_images(names: set[str], root: Path) -> dict[str, Path]:
    """Map each reference to a file inside root.

    A reference with a ``/`` is a path relative to root; a bare file name is searched for
    recursively and must be unique there (sample sets repeat names like obama.jpg).
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise PairsError(f"images folder {root} does not exist")
    by_name: dict[str, list[Path]] = {}
    for path in root.rglob("*"):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            by_name.setdefault(path.name, []).append(path)
    resolved = {}
    for name in sorted(names):
        if "/" in name:
            path = (root / name).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise PairsError(f"image {name!r} not found inside {root}")
        else:
            found = by_name.get(name, [])
            if len(found) != 1:
                why = "not found" if not found else f"ambiguous ({len(found)} files)"
                raise PairsError(f"image {name!r} {why} inside {root}; use a relative path")
            path = found[0]
        resolved[name] = path
    return resolved


def rates(distances: np.ndarray, same: np.ndarray, threshold: float) -> dict:
    """TPR, FPR and accuracy when a pair 'matches' at distance <= threshold."""
    match = distances <= threshold
    genuine, impostor = int(same.sum()), int((~same).sum())
    true_pos = int((match & same).sum())
    false_pos = int((match & ~same).sum())
    true_neg = impostor - false_pos
    return {
        "threshold": round(float(threshold), 4),
        "tpr": round(true_pos / genuine, 4) if genuine else None,
        "fpr": round(false_pos / impostor, 4) if impostor else None,
        "accuracy": round((true_pos + true_neg) / len(same), 4) if len(same) else None,
    }


def evaluate(
    pairs: list[Pair],
    root: Path,
    thresholds: list[float],
    operating_threshold: float,
    target_fmrs: list[float],
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Encode every distinct image once, then score all pairs at every threshold."""
    paths = resolve_images({p.file_x for p in pairs} | {p.file_y for p in pairs}, root)
    encodings: dict[str, np.ndarray | None] = {}
    for i, (name, path) in enumerate(sorted(paths.items()), start=1):
        encodings[name] = encode_reference(path)
        if progress:
            progress(f"encoded {i}/{len(paths)} images")
    no_face = sorted(name for name, enc in encodings.items() if enc is None)
    scored = [
        p for p in pairs if encodings[p.file_x] is not None and encodings[p.file_y] is not None
    ]
    distances = np.array(
        [float(np.linalg.norm(encodings[p.file_x] - encodings[p.file_y])) for p in scored],
        dtype=np.float64,
    )
    same = np.array([p.same for p in scored], dtype=bool)
    table = [rates(distances, same, t) for t in thresholds]
    targets = []
    for target in target_fmrs:
        # The loosest threshold of the grid whose false-match rate stays within the target.
        within = [row for row in table if row["fpr"] is not None and row["fpr"] <= target]
        best = max(within, key=lambda row: row["threshold"]) if within else None
        targets.append({"target_fmr": target, **(best or {"threshold": None})})
    impostor = distances[~same]
    genuine = distances[same]
    return {
        "pairs": len(pairs),
        "scored_pairs": len(scored),
        "genuine_pairs": int(same.sum()),
        "impostor_pairs": int((~same).sum()),
        "thresholds": table,
        "operating_point": rates(distances, same, operating_threshold),
        "target_fmr": targets,
        "closest_impostor": round(float(impostor.min()), 4) if impostor.size else None,
        "farthest_genuine": round(float(genuine.max()), 4) if genuine.size else None,
        "no_face": no_face,
    }
