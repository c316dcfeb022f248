"""Open-set 1:N identification, measured the way live facial recognition is used.

A *gallery* (the watchlist) holds one folder of images per identity; each *probe* image
is searched against the whole gallery. A probe whose identity is in the gallery is a
mated search, the others non-mated (passers-by). For each threshold:

- TPIR: mated searches whose nearest gallery identity is the right one, within the
  threshold (rank 1); a mated probe with no detectable face is a miss;
- wrong-identity alerts: mated searches whose nearest identity, within the threshold,
  is someone else;
- FPIR: non-mated searches with any gallery identity within the threshold (a non-mated
  probe with no face raises nothing and is left out of the denominator, and counted);
- FMR: the share of single comparisons of a probe with a gallery identity of another
  person that fall within the threshold, with its one-sided 95 % upper bound, and what
  that bound implies for a watchlist of N entries: 1 - (1 - FMR_upper)^N.

Intervals are exact (Clopper-Pearson): two-sided 95 % for TPIR and FPIR, one-sided 95 %
upper for FMR (with no error in n comparisons that is 1 - 0.05^(1/n), about 3/n: the
"rule of three"). A comparison is a probe against an identity's closest gallery image,
as the product matches a face against a watchlist entry.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .evaluation import IMAGE_SUFFIXES

WATCHLIST_SIZES = (100, 1_000, 10_000, 16_000)
CONFIDENCE = 0.95
CHUNK = 2048  # probes per distance block at most
BLOCK_CELLS = 2_000_000  # and at most this many distances per block (16 MB of float64)


class IdentificationError(ValueError):
    """The gallery or probe folder cannot be used; the message says why."""


# --- exact binomial bounds ------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Numerical Recipes 6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-14:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _beta_quantile(q: float, a: float, b: float) -> float:
    low, high = 0.0, 1.0
    for _ in range(100):
        mid = (low + high) / 2
        if _betainc(a, b, mid) < q:
            low = mid
        else:
            high = mid
    return high


def upper_bound(errors: int, trials: int, confidence: float = CONFIDENCE) -> float | None:
    """One-sided exact (Clopper-Pearson) upper bound on a rate from errors in trials."""
    if trials <= 0:
        return None
    if errors >= trials:
        return 1.0
    if errors == 0:
        return 1.0 - (1.0 - confidence) ** (1.0 / trials)
    return _beta_quantile(confidence, errors + 1, trials - errors)


def interval(successes: int, trials: int, confidence: float = CONFIDENCE) -> list | None:
    """Two-sided exact (Clopper-Pearson) interval [low, high] on a rate."""
    if trials <= 0:
        return None
    tail = (1.0 - confidence) / 2
    low = 0.0 if successes == 0 else _beta_quantile(tail, successes, trials - successes + 1)
    high = 1.0 if successes >= trials else upper_bound(successes, trials, 1.0 - tail)
    return [low, high]


def implied_fpir(fmr_upper: float | None, watchlist_size: int) -> float | None:
    """The chance a passer-by raises a false alert against N entries, from the FMR bound."""
    if fmr_upper is None:
        return None
    return -math.expm1(watchlist_size * math.log1p(-fmr_upper)) if fmr_upper < 1 else 1.0


# --- the searches -----------------------------------------------------------------------------


def read_identities(root: Path) -> dict[str, list[Path]]:
    """One folder per identity under root, each with its images (other files ignored)."""
    root = Path(root)
    if not root.is_dir():
        raise IdentificationError(f"folder {root} does not exist")
    found = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = sorted(
            p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if images:
            found[folder.name] = images
    if not found:
        raise IdentificationError(f"{root.name}/ holds no identity folder with images")
    return found


def encode_folders(
    folders: dict[str, list[Path]],
    encode: Callable[[Path], np.ndarray | None],
    progress: Callable[[str], None] | None = None,
    label: str = "",
) -> list[tuple[str, str, np.ndarray | None]]:
    """(identity, file name, encoding or None when no face) for every image."""
    out = []
    total = sum(len(v) for v in folders.values())
    for identity, paths in folders.items():
        for path in paths:
            out.append((identity, f"{identity}/{path.name}", encode(path)))
            if progress:
                progress(f"encoded {len(out)}/{total} {label} images")
    return out


def _gallery(gallery: list[tuple[str, np.ndarray]]):
    """Templates sorted by identity, the identity names, and where each identity starts."""
    gallery = sorted(gallery, key=lambda item: item[0])
    names = sorted({identity for identity, _ in gallery})
    index = {name: i for i, name in enumerate(names)}
    rows = np.array([index[identity] for identity, _ in gallery])
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    matrix = np.asarray([enc for _, enc in gallery], dtype=np.float64)
    return matrix, names, starts


def identify(
    gallery: list[tuple[str, np.ndarray]],
    probes: list[tuple[str, np.ndarray | None]],
    thresholds: list[float],
    progress: Callable[[str], None] | None = None,
    chunk: int = CHUNK,
) -> dict:
    """Search every probe against the gallery and count outcomes at every threshold.

    `gallery` holds (identity, encoding) for each gallery image with a face, `probes`
    (identity, encoding or None). Distances are computed a block of probes at a time,
    reduced to each identity's closest image, and counted into per-threshold histograms:
    nothing per comparison is kept, so 10^6 comparisons cost one pass.
    """
    if not gallery:
        raise IdentificationError("no gallery image has a detectable face")
    thresholds = sorted(float(t) for t in thresholds)
    grid = np.asarray(thresholds)
    matrix, names, starts = _gallery(gallery)
    # A few blocks of 16 MB, whatever the gallery: a 16,000-entry watchlist searched 2,048
    # probes at a time would hold a gigabyte of distances on a machine shared with streams.
    chunk = max(1, min(chunk, BLOCK_CELLS // len(matrix)))
    known = {name: i for i, name in enumerate(names)}
    g_sq = (matrix**2).sum(axis=1)

    mated_total = sum(1 for identity, _ in probes if identity in known)
    mated_no_face = sum(1 for identity, enc in probes if identity in known and enc is None)
    non_mated_no_face = sum(1 for identity, enc in probes if identity not in known and enc is None)
    with_face = [(identity, enc) for identity, enc in probes if enc is not None]

    def histogram(values: np.ndarray) -> np.ndarray:
        # counts[j] = how many values are <= thresholds[j]
        slots = np.searchsorted(grid, values, side="left")
        return np.cumsum(np.bincount(slots, minlength=len(grid) + 1)[: len(grid)])

    hits = np.zeros(len(grid), dtype=np.int64)
    wrong = np.zeros(len(grid), dtype=np.int64)
    false_alerts = np.zeros(len(grid), dtype=np.int64)
    false_matches = np.zeros(len(grid), dtype=np.int64)
    comparisons = 0
    non_mated = 0
    closest_impostor = math.inf
    for begin in range(0, len(with_face), chunk):
        block = with_face[begin : begin + chunk]
        probe = np.asarray([enc for _, enc in block], dtype=np.float64)
        squared = (probe**2).sum(axis=1)[:, None] + g_sq[None, :] - 2.0 * probe @ matrix.T
        distance = np.sqrt(np.maximum(squared, 0.0))
        per_identity = np.minimum.reduceat(distance, starts, axis=1)  # (probes, identities)
        own = np.array([known.get(identity, -1) for identity, _ in block])
        mated = own >= 0
        impostor = np.ones(per_identity.shape, dtype=bool)
        impostor[np.flatnonzero(mated), own[mated]] = False
        values = per_identity[impostor]
        comparisons += values.size
        if values.size:
            false_matches += histogram(values)
            closest_impostor = min(closest_impostor, float(values.min()))
        others = np.where(impostor, per_identity, np.inf).min(axis=1)
        if mated.any():
            mine = per_identity[np.flatnonzero(mated), own[mated]]
            theirs = others[mated]
            right = mine <= theirs
            hits += histogram(mine[right])
            wrong += histogram(theirs[~right])
        if (~mated).any():
            non_mated += int((~mated).sum())
            false_alerts += histogram(per_identity[~mated].min(axis=1))
        if progress:
            progress(f"searched {min(begin + chunk, len(with_face))}/{len(with_face)} probes")

    rows = []
    for j, threshold in enumerate(thresholds):
        fmr_upper = upper_bound(int(false_matches[j]), comparisons)
        rows.append(
            {
                "threshold": round(threshold, 4),
                "tpir": _rate(hits[j], mated_total),
                "tpir_interval": _rounded(interval(int(hits[j]), mated_total)),
                "wrong_identity_alerts": int(wrong[j]),
                "false_alerts": int(false_alerts[j]),
                "fpir": _rate(false_alerts[j], non_mated),
                "fpir_interval": _rounded(interval(int(false_alerts[j]), non_mated)),
                "false_matches": int(false_matches[j]),
                "fmr": _rate(false_matches[j], comparisons, 8),
                "fmr_upper": None if fmr_upper is None else float(f"{fmr_upper:.4g}"),
                "implied_fpir": {str(n): _sig(implied_fpir(fmr_upper, n)) for n in WATCHLIST_SIZES},
            }
        )
    return {
        "identities": len(names),
        "gallery_images": len(gallery),
        "mated": mated_total,
        "non_mated": non_mated,
        "mated_no_face": mated_no_face,
        "non_mated_no_face": non_mated_no_face,
        "comparisons": comparisons,
        "closest_impostor": None if math.isinf(closest_impostor) else round(closest_impostor, 4),
        "confidence": CONFIDENCE,
        "interval_method": "Clopper-Pearson (exact binomial)",
        "thresholds": rows,
    }


def _rate(count, total, places: int = 6):
    return round(int(count) / total, places) if total else None


def _sig(value):
    return None if value is None else float(f"{value:.4g}")


def _rounded(pair):
    return None if pair is None else [_sig(v) for v in pair]


def choose_operating_point(
    rows: list[dict], *, watchlist_size: int, max_false_alert_rate: float
) -> dict | None:
    """The loosest threshold whose bounded false-alert rate at N entries meets the policy.

    The bound is 1 - (1 - FMR_upper)^N from each row's comparisons; None when no
    threshold of the rows meets it (the evidence cannot support that watchlist size).
    """
    best = None
    for row in sorted(rows, key=lambda r: r["threshold"]):
        bound = implied_fpir(row.get("fmr_upper"), watchlist_size)
        if bound is not None and bound <= max_false_alert_rate:
            best = {**row, "fpir_bound": bound}
    return best


def synthetic_encodings(
    identities: int, per_identity: int, seed: int = 0, spread: float = 0.35
) -> list[tuple[str, np.ndarray]]:
    """Random 128-d encodings for benchmarks: identity centres on the dlib scale
    (strangers ~0.9 apart), images scattered around them (same person ~0.35 apart)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 0.9 / math.sqrt(2 * 128), size=(identities, 128))
    noise = rng.normal(0.0, spread / math.sqrt(2 * 128), size=(identities, per_identity, 128))
    out = []
    for i in range(identities):
        out.extend((f"s{i:06d}", centres[i] + noise[i, k]) for k in range(per_identity))
    return out


def bench(gallery_size: int = 1000, non_mated: int = 1000, thresholds=None) -> dict:
    """Time identify() on synthetic encodings: gallery_size x non_mated impostor pairs."""
    gallery = synthetic_encodings(gallery_size, 1, seed=1)
    strangers = [(f"x{i}", enc) for i, (_, enc) in enumerate(synthetic_encodings(non_mated, 1, 2))]
    thresholds = thresholds or [round(0.30 + 0.01 * i, 2) for i in range(51)]
    started = time.process_time()
    result = identify(gallery, strangers, thresholds)
    return {"comparisons": result["comparisons"], "cpu_seconds": time.process_time() - started}


def evaluate_folders(
    gallery_root: Path,
    probes_root: Path,
    thresholds: list[float],
    progress: Callable[[str], None] | None = None,
    encode: Callable[[Path], np.ndarray | None] | None = None,
) -> dict:
    """Encode a gallery and a probe folder (one sub-folder per identity) and search."""
    if encode is None:
        from .faces import encode_reference as encode
    gallery = encode_folders(read_identities(gallery_root), encode, progress, "gallery")
    probes = encode_folders(read_identities(probes_root), encode, progress, "probe")
    result = identify(
        [(identity, enc) for identity, _, enc in gallery if enc is not None],
        [(identity, enc) for identity, _, enc in probes],
        thresholds,
        progress,
    )
    result["no_face"] = sorted(
        [f"gallery/{name}" for _, name, enc in gallery if enc is None]
        + [f"probes/{name}" for _, name, enc in probes if enc is None]
    )
    result["gallery_identities"] = sorted(
        {identity for identity, _, enc in gallery if enc is not None}
    )
    result["probe_identities"] = sorted({identity for identity, _, _ in probes})
    return result


# When no 1:N evaluation is stored, the product states its operating point from this
# measurement (issue 22, 2026): dlib on 11,564 comparisons of distinct people (group
# photos and portraits); 95 % of the genuine pairs of a labelled public set accepted at
# 0.507. A force replaces it by storing its own evaluation on thousands of people.
DEFAULT_CALIBRATION = {
    "dataset": "default calibration: dlib on 11,564 comparisons of distinct people (2026)",
    "people": None,
    "thresholds": [
        {"threshold": 0.507, "tpir": 0.95, "false_matches": 0, "comparisons": 11_564},
        {"threshold": 0.55, "tpir": None, "false_matches": 16, "comparisons": 11_564},
    ],
}


def default_calibration_rows() -> list[dict]:
    return [
        {**row, "fmr_upper": upper_bound(row["false_matches"], row["comparisons"])}
        for row in DEFAULT_CALIBRATION["thresholds"]
    ]


def figures_at(rows: list[dict], threshold: float, watchlist_size: int) -> dict:
    """What the rows say of a threshold that may fall between them, erring on the safe
    side: the false-alert bound of the nearest row at or above it (a looser threshold
    never alerts less), the recognition of the nearest row at or below it."""
    rows = sorted(rows, key=lambda r: r["threshold"])
    above = [r for r in rows if r["threshold"] >= threshold - 1e-9]
    below = [r for r in rows if r["threshold"] <= threshold + 1e-9]
    bound = implied_fpir(above[0].get("fmr_upper"), watchlist_size) if above else None
    return {
        # No comparison at or above it: nothing bounds the rate below certainty.
        "fpir_bound": 1.0 if bound is None else bound,
        "tpir": below[-1].get("tpir") if below else None,
    }
