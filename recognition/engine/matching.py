"""Nearest-neighbour search of probe encodings against a frozen watchlist matrix."""

from __future__ import annotations

import numpy as np

ENCODING_DIM = 128


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


def naive_nearest(encodings: np.ndarray, probe: np.ndarray) -> tuple[int, float]:
    """The per-row Python loop the vectorised search replaces (reference for tests/bench)."""
    best_row, best = -1, float("inf")
    for row, candidate in enumerate(encodings):
        distance = float(np.linalg.norm(candidate - probe))
        if distance < best:
            best_row, best = row, distance
    return best_row, best
