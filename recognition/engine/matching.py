"""Nearest-neighbour search of probe encodings against a frozen watchlist matrix."""

from __future__ import annotations

import numpy as np

ENCODING_DIM = 128
# Big watchlists get a prefilter: a lower bound of every distance from the first
# PREFILTER_DIMS principal components (half the bytes to read), then exact
# distances only for the rows that bound leaves within the threshold.
PREFILTER_MIN_ROWS = 200_000
PREFILTER_DIMS = 64
# Past this share of candidate rows the prefilter saves nothing: scan everything.
PREFILTER_MAX_SHARE = 0.05
PCA_SAMPLE_ROWS = 20_000


class Watchlist:
    """A frozen (N, 128) float32 matrix with one label per row, loaded once per slice.

    Squared norms are precomputed so a search is one matrix product:
    |p - w|^2 = |p|^2 + |w|^2 - 2 p.w, the memory-bound part being a single pass over
    the matrix however many probes a frame produced.
    """

    def __init__(self, encodings: np.ndarray, labels: list):
        matrix = np.ascontiguousarray(encodings, dtype=np.float32)
        if matrix.ndim == 1 and matrix.size == 0:
            matrix = matrix.reshape(0, ENCODING_DIM)
        if matrix.ndim != 2 or matrix.shape[1] != ENCODING_DIM:
            raise ValueError(f"encodings must be (N, {ENCODING_DIM}), got {matrix.shape}")
        if len(labels) != matrix.shape[0]:
            raise ValueError(f"{len(labels)} labels for {matrix.shape[0]} encodings")
        self.encodings = matrix
        self.labels = list(labels)
        self._sq_norms = np.einsum("ij,ij->i", matrix, matrix)
        self._rotation = None
        if matrix.shape[0] >= PREFILTER_MIN_ROWS:
            self._build_prefilter()

    def _build_prefilter(self) -> None:
        # An orthonormal rotation preserves distances exactly, and dropping coordinates
        # can only shrink them: |head(p - w)| <= |p - w|. Principal axes first makes the
        # bound as tight as it gets for the data at hand.
        matrix = self.encodings
        # Principal axes from an evenly spaced sample: any orthonormal basis keeps the
        # bound valid, a good one keeps it tight, and a sample finds a good one fast.
        sample = matrix[:: max(1, matrix.shape[0] // PCA_SAMPLE_ROWS)].astype(np.float64)
        _, vectors = np.linalg.eigh(np.cov(sample, rowvar=False))
        rotation = np.ascontiguousarray(vectors[:, ::-1], dtype=np.float32)
        self._rotation = rotation
        # Two products straight into contiguous halves: no full rotated copy to split.
        self._head = matrix @ np.ascontiguousarray(rotation[:, :PREFILTER_DIMS])
        self._tail = matrix @ np.ascontiguousarray(rotation[:, PREFILTER_DIMS:])
        self._head_sq = np.einsum("ij,ij->i", self._head, self._head)

    @classmethod
    def from_bytes(cls, blob: bytes, labels: list) -> Watchlist:
        """Rows stored as float32 row-major N x 128 (the snapshot format)."""
        matrix = np.frombuffer(blob, dtype=np.float32)
        if matrix.size != len(labels) * ENCODING_DIM:
            raise ValueError(
                f"blob holds {matrix.size} floats, expected {len(labels)} x {ENCODING_DIM}"
            )
        return cls(matrix.reshape(len(labels), ENCODING_DIM), labels)

    def __len__(self) -> int:
        return self.encodings.shape[0]

    def nearest(self, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row index, euclidean distance) of the closest row for each probe.

        An empty watchlist gives index -1 and distance +inf for every probe.
        """
        probes = np.asarray(probes, dtype=np.float32)
        if probes.ndim == 1:
            probes = probes[None, :]
        count = probes.shape[0]
        if len(self) == 0 or count == 0:
            return np.full(count, -1, dtype=np.int64), np.full(count, np.inf, dtype=np.float32)
        # (N, P): one BLAS call; for a single probe this is a gemv over the matrix.
        products = self.encodings @ probes.T
        products *= -2.0
        products += self._sq_norms[:, None]
        rows = np.argmin(products, axis=0)
        best = products[rows, np.arange(count)]
        probe_sq = np.einsum("ij,ij->i", probes, probes)
        distances = np.sqrt(np.maximum(best + probe_sq, 0.0)).astype(np.float32)
        return rows.astype(np.int64), distances

    def match(self, probes: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """(row, distance) of the nearest row within ``threshold``, or (-1, inf) if none.

        Same decisions as nearest() followed by a threshold test; on big watchlists the
        prefilter reads half of the matrix instead of all of it.
        """
        probes = np.asarray(probes, dtype=np.float32)
        if probes.ndim == 1:
            probes = probes[None, :]
        if self._rotation is None:
            rows, distances = self.nearest(probes)
            outside = distances > threshold
            rows[outside], distances[outside] = -1, np.inf
            return rows, distances
        count = probes.shape[0]
        rows = np.full(count, -1, dtype=np.int64)
        distances = np.full(count, np.inf, dtype=np.float32)
        rotated = probes @ self._rotation
        head, tail = rotated[:, :PREFILTER_DIMS], rotated[:, PREFILTER_DIMS:]
        bounds = self._head @ head.T
        bounds *= -2.0
        bounds += self._head_sq[:, None]
        bounds += np.einsum("ij,ij->i", head, head)[None, :]
        # Slack for float32 rounding in the expansion; it only adds candidates.
        limit = threshold * threshold + 1e-3
        for i in range(count):
            candidates = np.flatnonzero(bounds[:, i] <= limit)
            if candidates.size == 0:
                continue
            if candidates.size > PREFILTER_MAX_SHARE * len(self):
                row, distance = self.nearest(probes[i])
                row, distance = int(row[0]), float(distance[0])
            else:
                diff_head = self._head[candidates] - head[i]
                diff_tail = self._tail[candidates] - tail[i]
                squared = np.einsum("ij,ij->i", diff_head, diff_head) + np.einsum(
                    "ij,ij->i", diff_tail, diff_tail
                )
                best = int(np.argmin(squared))
                row, distance = int(candidates[best]), float(np.sqrt(squared[best]))
            if distance <= threshold:
                rows[i], distances[i] = row, distance
        return rows, distances


def naive_nearest(encodings: np.ndarray, probe: np.ndarray) -> tuple[int, float]:
    """The per-row Python loop the vectorised search replaces (reference for tests/bench)."""
    best_row, best = -1, float("inf")
    for row, candidate in enumerate(encodings):
        distance = float(np.linalg.norm(candidate - probe))
        if distance < best:
            best_row, best = row, distance
    return best_row, best
