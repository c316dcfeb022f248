"""face_recognition's documented per-frame loop, the reference the benchmarks compare to.

Full-resolution HOG with one upsample on every frame, encode every face, compare_faces
at 0.6 (as in examples/facerec_from_video_file.py).
"""

from __future__ import annotations

import cv2
import numpy as np

from . import face_api

BASELINE_TOLERANCE = 0.6


class BaselineLoop:
    """Per-frame: locate, encode and compare every face; reports labels matched."""

    def __init__(self, encodings: np.ndarray, labels: list):
        self.known = list(np.asarray(encodings, dtype=np.float64))
        self.labels = list(labels)

    def process(self, frame_bgr: np.ndarray) -> tuple[int, list]:
        """(faces found, labels matched) for one frame."""
        api = face_api()
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        locations = api.face_locations(rgb, number_of_times_to_upsample=1)
        encodings = api.face_encodings(rgb, locations)
        matched = []
        for encoding in encodings:
            hits = api.compare_faces(self.known, encoding, tolerance=BASELINE_TOLERANCE)
            matched.extend(label for label, hit in zip(self.labels, hits, strict=True) if hit)
        return len(locations), matched
