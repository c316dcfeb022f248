"""Keep a face's identity across frames from box geometry alone.

A track holds only its box, a view-quality score and the labels it already matched:
never an encoding or pixels, so a non-matching face leaves nothing once it is gone.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from .faces import Box


@dataclass
class Track:
    """One face followed across detections."""

    track_id: str
    box: Box
    last_seen: int  # frame number of the last detection that matched this track
    missed: int = 0  # detection passes in a row that could have seen it and did not
    hits: int = 1  # detection passes that found it
    counted: bool = False  # counted as a face seen (see Tracker.update)
    best_quality: float = 0.0  # quality of the best view encoded so far (0: never encoded)
    encodes: int = 0
    still: int = 0  # passes in a row on which its box did not move (a logo, a poster)
    matched_labels: set = field(default_factory=set)
    # The distance each matched label was matched at, and the frame time (s) the track was
    # last reported as a sighting (Pipeline: PipelineConfig.resight_seconds).
    matched_distances: dict = field(default_factory=dict)
    reported_at: float = 0.0
    # Looks (encodings) of this track within the threshold of each label not yet alerted:
    # labels and counts only, never an encoding (PipelineConfig.evidence_looks).
    looks: dict = field(default_factory=dict)


def iou(a: Box, b: Box) -> float:
    top, right = max(a[0], b[0]), min(a[1], b[1])
    bottom, left = min(a[2], b[2]), max(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    area_a = (a[1] - a[3]) * (a[2] - a[0])
    area_b = (b[1] - b[3]) * (b[2] - b[0])
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def centre_shift(a: Box, b: Box) -> float:
    """Distance between the box centres, relative to the larger box width."""
    ax, ay = (a[1] + a[3]) / 2, (a[0] + a[2]) / 2
    bx, by = (b[1] + b[3]) / 2, (b[0] + b[2]) / 2
    width = max(a[1] - a[3], b[1] - b[3], 1)
    return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 / width


class Tracker:
    """Greedy association of each detection round's boxes to live tracks.

    A detection joins the track it overlaps most (IoU), or failing any overlap the one
    whose centre moved least (people walk between detection frames). A track missed by a
    pass (turned away, occluded, a pass that failed to find it) carries on: it may move
    ``max_centre_shift`` face widths for each pass since it was last found, and is
    dropped only after more than ``max_missed_passes`` passes able to see it missed it.

    Faces seen are counted from tracks: a track counts once, when it has been found on
    ``min_hits`` passes (a single detection is too often not a face) or has matched.
    """

    def __init__(
        self,
        *,
        min_iou: float,
        max_centre_shift: float,
        max_missed_passes: int,
        min_hits: int = 1,
    ):
        self.min_iou = min_iou
        self.max_centre_shift = max_centre_shift
        self.max_missed_passes = max_missed_passes
        self.min_hits = max(1, min_hits)
        self.tracks: dict[str, Track] = {}
        # Random prefix: track ids stay unique across slices and restarts of a camera.
        self._prefix = uuid.uuid4().hex[:8]
        self._counter = itertools.count(1)

    def update(
        self, boxes: list[Box], frame_no: int, visible_from: float = 0
    ) -> list[tuple[Track, bool]]:
        """Assign boxes to tracks; returns (track, is_new) aligned with ``boxes``.

        Tracks narrower than ``visible_from`` pixels are not counted as missed when no
        box joins them (the pass could not have found them).
        """
        candidates = []
        for i, box in enumerate(boxes):
            for tid, track in self.tracks.items():
                overlap = iou(box, track.box)
                shift = centre_shift(box, track.box)
                # A face missed by k passes walked on meanwhile: k + 1 passes' worth.
                reach = self.max_centre_shift * (1 + track.missed)
                if overlap >= self.min_iou or shift <= reach:
                    # Prefer overlap, then the smallest move.
                    candidates.append((-overlap, shift, i, tid))
        candidates.sort()
        assigned: dict[int, Track] = {}
        taken: set[str] = set()
        for _, _, i, tid in candidates:
            if i in assigned or tid in taken:
                continue
            assigned[i] = self.tracks[tid]
            taken.add(tid)
        for tid in list(self.tracks):
            track = self.tracks[tid]
            if tid in taken or track.box[1] - track.box[3] < visible_from:
                continue
            track.missed += 1
            if track.missed > self.max_missed_passes:
                del self.tracks[tid]
        result = []
        for i, box in enumerate(boxes):
            track = assigned.get(i)
            is_new = track is None
            if is_new:
                track = Track(f"{self._prefix}-{next(self._counter)}", box, frame_no)
                self.tracks[track.track_id] = track
            else:
                track.hits += 1
                moved = max(abs(a - b) for a, b in zip(box, track.box, strict=True))
                track.still = track.still + 1 if moved <= 1 else 0
            track.box = box
            track.last_seen = frame_no
            track.missed = 0
            result.append((track, is_new))
        return result

    def count_faces(self) -> int:
        """Tracks that became faces seen since the last call (each track counts once)."""
        new = 0
        for track in self.tracks.values():
            if not track.counted and (track.hits >= self.min_hits or track.matched_labels):
                track.counted = True
                new += 1
        return new
