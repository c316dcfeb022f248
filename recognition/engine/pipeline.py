"""The production recognition pipeline: detect, track, encode when needed, match.

Where the time goes (one core, CPU time, profiled with cProfile on the Hamilton clip and
its 1080p copy): HOG on a 960x540 grayscale frame costs ~110 ms with one upsample and
~28 ms without; encoding a face ~80-110 ms; decoding a 1080p frame ~3-4 ms (grab) plus
~1 ms to convert it; resizing and matching are below a millisecond. So detection runs
on a downscaled grayscale frame every few frames, only one pass in a few upsamples (for
small faces), tracks carry faces between passes, a track is encoded on first sighting
and again only for a clearly better view, frames between passes are grabbed but not
decoded to pixels, and all new encodings of a frame are matched in one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import faces
from .matching import Watchlist
from .tracking import Tracker

__all__ = ["FrameResult", "Match", "Pipeline", "PipelineConfig", "Watchlist"]


@dataclass(frozen=True)
class PipelineConfig:
    """Knobs of the pipeline; the defaults are the measured production operating point."""

    # Frames are resized to between these widths before detection. HOG finds faces of
    # ~80 px, ~40 px with one upsample: at 960 wide with one upsample that is ~27 px in a
    # 640x360 frame and ~80 px in a 1080p one. Narrower frames are upscaled (cheaply, by
    # OpenCV) rather than upsampled twice by dlib. 0 disables upscaling.
    detect_max_width: int = 960
    detect_min_width: int = 960
    upsample: int = 1
    # "yunet" (libfacedetection's YuNet via yuface) or "hog" (dlib, the fallback). On the
    # Hamilton clip composited at four scales into a 1080p frame (bench_all), YuNet at
    # 960 px wide found 42 faces at confidence >= 0.8 on 11 frames, from 20 px wide, in
    # 78 ms CPU a frame; HOG (one upsample, 960 px) found 7, none under ~70 px, in 168 ms.
    # YuNet runs every pass on the frame resized down to detect_max_width, never up:
    # it needs no upsampling to find small faces.
    model: str = "yunet"
    # YuNet's gate: below 0.8 it also fired on a logo and the backs of heads (issue 23's
    # crowd clip: 104 real faces and 2 false ones at >= 0.8).
    min_confidence: float = 0.8
    # Faces narrower than this (full-frame pixels) are ignored; from this width up they
    # are tracked, but encoded only from encode_min_face_px: dlib's encoding of a face
    # under ~48 px is too unreliable to match on (it waits for the face to grow).
    min_face_px: int = 24
    encode_min_face_px: int = 48
    # A track whose box has not moved by more than a pixel for this many passes is a
    # static false positive (a logo, a poster): it is not encoded again.
    static_passes: int = 6
    # Run detection on one frame in this many; tracks carry the boxes in between.
    detect_every: int = 5
    # Only one detection pass in this many uses `upsample` (the pass that finds small
    # faces; dlib scans a 4x bigger image); the others run without upsampling, 4x
    # cheaper, and find faces twice as large. 1 = always upsample.
    small_face_every: int = 4
    # Re-encode a track only when its view quality beats the best encoded one by this
    # fraction (bigger, sharper, more frontal), and at most max_encodes_per_track times.
    reencode_min_gain: float = 0.3
    max_encodes_per_track: int = 4
    # Tracking: same face if boxes overlap this much, or the centre moved at most this
    # many face widths per pass since it was last found; a track missed by more than
    # this many detection passes that could have seen it is forgotten (at the defaults,
    # a face lost for up to ~1 s at 25 fps is still the same face).
    min_iou: float = 0.3
    max_centre_shift: float = 0.75
    max_missed_passes: int = 6
    # Evidence over a track: a label alerts once this many encodings of the track (looks)
    # matched it within the threshold. A track with a look pending is re-encoded on the
    # next passes, whatever its view quality, up to max_encodes_per_track; a track lost
    # before its second look never alerts. 1 = alert on the first look.
    evidence_looks: int = 1
    # ...except a look this far inside the threshold, which alerts at once: a face seen on
    # one pass only (a short clip, a passer-by glimpsed) can still alert when the match
    # leaves no doubt. Same-person photos of the sample set sit 0.36-0.45 apart, the false
    # matches found near the threshold (0.57-0.7 on the bench).
    sure_look_margin: float = 0.1
    # A look within this much past the threshold (a near miss) also earns the track more
    # looks on the next passes: a face seen first small or turned gets another chance.
    second_look_margin: float = 0.1
    # "Faces seen" counts a track once it was found on this many passes (or matched).
    min_hits: int = 1
    # A matched track that detection still finds is reported again as a sighting of its
    # label once this many seconds of frame time have passed since its last report (never
    # per frame, and with no new encoding): the subject's alert follows them for as long
    # as they are tracked. 0 = report a track's match once only.
    resight_seconds: float = 5.0
    # Frame time when process() is given none: frame_no / nominal_fps.
    nominal_fps: float = 25.0


@dataclass(frozen=True)
class Match:
    """A track whose encoding is within the threshold of a watchlist row."""

    track_id: str
    label: object
    distance: float
    crop_jpeg: bytes
    box: tuple
    frame_no: int
    # A continuing matched track seen again (PipelineConfig.resight_seconds): `distance`
    # is that of the look that matched it, `crop_jpeg` the face on this frame.
    resight: bool = False


@dataclass(frozen=True)
class FrameResult:
    """What one frame produced: counters, and matches only."""

    faces_detected: int
    # Faces seen: tracks that became faces on this frame (Tracker.count_faces), each
    # counted once however long it is followed; the published "faces seen" sums these.
    new_tracks: int
    faces_encoded: int
    matches: list[Match]
    detected: bool = True  # False when this frame was carried by the tracker


_SKIPPED = FrameResult(0, 0, 0, [], detected=False)
# HOG's window is 80 px; faces a little larger than that may still be missed by a pass
# without upsampling, so a track is "visible" to such a pass from this width up.
COARSE_MIN_FACE_PX = 100


class Pipeline:
    """Processes one camera's frames in order; holds tracks, never a non-match's data."""

    def __init__(
        self, watchlist: Watchlist, threshold: float, config: PipelineConfig = PipelineConfig()
    ):
        if config.model not in {"hog", "yunet"}:
            # The CNN detector needs a GPU to be usable.
            raise ValueError(f"unsupported detection model {config.model!r}")
        self.watchlist = watchlist
        self.threshold = float(threshold)
        self.config = config
        self.tracker = Tracker(
            min_iou=config.min_iou,
            max_centre_shift=config.max_centre_shift,
            max_missed_passes=config.max_missed_passes,
            min_hits=config.min_hits,
        )
        self._last_detect: int | None = None
        self._passes = 0

    def needs_frame(self, frame_no: int) -> bool:
        """Whether process() will look at this frame's pixels (a source may skip decoding)."""
        return self._last_detect is None or not (
            0 <= frame_no - self._last_detect < self.config.detect_every
        )

    def process(
        self, frame_bgr: np.ndarray | None, frame_no: int, at: float | None = None
    ) -> FrameResult:
        """One frame; `at` is its frame time in seconds (default frame_no / nominal_fps)."""
        if frame_bgr is None or not self.needs_frame(frame_no):
            return _SKIPPED
        if at is None:
            at = frame_no / self.config.nominal_fps
        self._last_detect = frame_no
        config = self.config
        if config.model == "yunet":
            small, scale = _resized(frame_bgr, config.detect_max_width, 0)
            gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
            found = faces.detect_yunet(small, config.min_confidence)
            visible_from = 0.0
        else:
            gray, scale = _resized(
                cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY),
                config.detect_max_width,
                config.detect_min_width,
            )
            small_pass = self._passes % max(config.small_face_every, 1) == 0
            found = faces.detect(gray, config.upsample if small_pass else 0)
            # Tracks too small for this pass to see are not counted as missed by it.
            visible_from = 0 if small_pass or not config.upsample else COARSE_MIN_FACE_PX / scale
        self._passes += 1
        found = [f for f in found if (f[0][1] - f[0][3]) / scale >= config.min_face_px]
        # HOG, the fallback, keeps its behaviour: it encodes whatever it finds.
        encode_from = config.encode_min_face_px if config.model == "yunet" else 0
        height, width = frame_bgr.shape[:2]
        boxes = [_scale_box(box, scale, width, height) for box, _, _ in found]
        assigned = self.tracker.update(boxes, frame_no, visible_from=visible_from)
        if not found:
            return FrameResult(0, self.tracker.count_faces(), 0, [])

        to_encode = []  # (track, box, quality)
        for (small_box, _score, kind), box, (track, _is_new) in zip(
            found, boxes, assigned, strict=True
        ):
            if box[1] - box[3] < encode_from or track.still >= config.static_passes:
                continue  # tracked until it is big enough to recognise; a static one never
            quality = faces.view_quality(box[1] - box[3], faces.sharpness(gray, small_box), kind)
            if track.encodes == 0 or (
                track.encodes < self.config.max_encodes_per_track
                and (
                    quality >= track.best_quality * (1 + self.config.reencode_min_gain)
                    or any(label not in track.matched_labels for label in track.looks)
                )
            ):
                if config.model == "yunet":
                    box = faces.refine_box(frame_bgr, box)
                    if box is None:
                        continue  # not frontal enough for HOG: wait for a better view
                to_encode.append((track, box, quality))

        matches: list[Match] = []
        if to_encode:
            probes = faces.encode(frame_bgr, [box for _, box, _ in to_encode])
            rows, distances = self.watchlist.match(
                probes, self.threshold + config.second_look_margin
            )
            for (track, box, quality), row, distance in zip(
                to_encode, rows, distances, strict=True
            ):
                track.encodes += 1
                track.best_quality = max(track.best_quality, quality)
                if row < 0:
                    continue
                label = self.watchlist.labels[row]
                if label in track.matched_labels:
                    continue
                if distance > self.threshold:  # a near miss: look again, no alert
                    track.looks.setdefault(label, 0)
                    continue
                track.looks[label] = track.looks.get(label, 0) + 1
                sure = distance <= self.threshold - config.sure_look_margin
                if track.looks[label] < config.evidence_looks and not sure:
                    continue
                track.matched_labels.add(label)
                track.matched_distances[label] = float(distance)
                track.reported_at = at
                matches.append(
                    Match(
                        track_id=track.track_id,
                        label=label,
                        distance=float(distance),
                        crop_jpeg=faces.crop_jpeg(frame_bgr, box),
                        box=box,
                        frame_no=frame_no,
                    )
                )
            # The probes go out of scope here: nothing of a non-match outlives the frame.
            del probes
        matches += self._resightings(frame_bgr, frame_no, at, boxes, assigned)
        return FrameResult(len(found), self.tracker.count_faces(), len(to_encode), matches)

    def _resightings(self, frame_bgr, frame_no, at, boxes, assigned) -> list[Match]:
        """Matched tracks found on this pass and not reported for resight_seconds.

        Only tracks that already matched: nothing is encoded, and nothing is kept or
        produced for a face that did not match.
        """
        every = self.config.resight_seconds
        if every <= 0:
            return []
        resights = []
        for box, (track, _is_new) in zip(boxes, assigned, strict=True):
            if not track.matched_labels or at - track.reported_at < every:
                continue
            track.reported_at = at
            crop = faces.crop_jpeg(frame_bgr, box)
            resights += [
                Match(
                    track_id=track.track_id,
                    label=label,
                    distance=track.matched_distances[label],
                    crop_jpeg=crop,
                    box=box,
                    frame_no=frame_no,
                    resight=True,
                )
                for label in sorted(track.matched_labels, key=repr)
            ]
        return resights


def _resized(image: np.ndarray, max_width: int, min_width: int) -> tuple[np.ndarray, float]:
    """The image resized into [min_width, max_width] (0 = no upscaling), and the scale."""
    height, width = image.shape[:2]
    if width > max_width:
        target, interpolation = max_width, cv2.INTER_AREA
    elif min_width and width < min_width:
        target, interpolation = min_width, cv2.INTER_LINEAR
    else:
        return image, 1.0
    scale = target / width
    size = (target, max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=interpolation), scale


def _scale_box(box: faces.Box, scale: float, width: int, height: int) -> faces.Box:
    if scale == 1.0:
        return box
    top, right, bottom, left = (round(v / scale) for v in box)
    return (max(top, 0), min(right, width), min(bottom, height), max(left, 0))
