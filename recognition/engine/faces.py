"""Face detection, encoding, view quality and crops over OpenCV BGR frames.

Boxes are (top, right, bottom, left) in full-frame pixels, like face_recognition.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import cv2
import numpy as np

from . import DLIB_LOCK, face_api

Box = tuple[int, int, int, int]

# Faces narrower than this are upscaled before encoding.
ENCODE_MIN_FACE_PX = 120
# Reference photos are detected on a copy at most this big (longer side).
REFERENCE_DETECT_MAX_SIDE = 1024


def _dlib_models():
    """The shared dlib models: call them only while holding DLIB_LOCK."""
    api = face_api().api
    return api.face_detector, api.pose_predictor_5_point, api.face_encoder


def detect(gray: np.ndarray, upsample: int) -> list[tuple[Box, float, int]]:
    """HOG faces in a grayscale image: (box, detector score, sub-detector index).

    Grayscale is a third cheaper than RGB for dlib's HOG and finds the same faces.
    """
    detector, _, _ = _dlib_models()
    with DLIB_LOCK:
        rects, scores, kinds = detector.run(gray, upsample, 0.0)
    height, width = gray.shape[:2]
    found = []
    for rect, score, kind in zip(rects, scores, kinds, strict=True):
        box = (
            max(rect.top(), 0),
            min(rect.right(), width),
            min(rect.bottom(), height),
            max(rect.left(), 0),
        )
        if box[2] > box[0] and box[1] > box[3]:
            found.append((box, float(score), int(kind)))
    return found


# libfacedetection (YuNet, through yuface) documents nothing about threads; one call at a
# time, like dlib. Its own lock: a YuNet pass need not wait for an encoding.
YUNET_LOCK = threading.Lock()


def _signed(value) -> int:
    # yuface returns boxes as uint16: a face cut by the left or top edge (x or y a few
    # pixels below 0) comes back as ~65,530.
    value = int(value)
    return value - 65536 if value >= 32768 else value


def detect_yunet(frame_bgr: np.ndarray, min_confidence: float) -> list[tuple[Box, float, int]]:
    """YuNet faces in a BGR image, at or above `min_confidence` (0-1): (box, score, 0).

    The model's weights are compiled into the yuface wheel (BSD-3, libfacedetection):
    nothing is downloaded. It finds faces down to ~10 px; the pipeline gates size.
    """
    import yuface

    height, width = frame_bgr.shape[:2]
    with YUNET_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns above 960 px; callers resize first
        confs, boxes, _ = yuface.detect(np.ascontiguousarray(frame_bgr), conf=min_confidence)
    found = []
    for conf, (x, y, w, h) in zip(confs, boxes, strict=True):
        x, y, w, h = _signed(x), _signed(y), int(w), int(h)
        # dlib's landmark model was trained on HOG's boxes, which sit lower and squarer:
        # measured on six sample portraits, HOG's top is 0.12-0.22 of YuNet's height
        # below YuNet's, its bottom 0.02-0.11 above, its width 0.99-1.23 of YuNet's with
        # the centre ~0.04 of the width to the right. Encoding from YuNet's own box lost
        # the Hamilton clip's Lacamoire alert.
        centre, half = x + w * 0.54, w * 0.54
        box = (
            max(round(y + 0.16 * h), 0),
            min(round(centre + half), width),
            min(round(y + 0.94 * h), height),
            max(round(centre - half), 0),
        )
        if box[2] > box[0] and box[1] > box[3]:
            found.append((box, int(conf) / 100.0, 0))
    return found


REFINE_FACE_PX = 100


def refine_box(frame_bgr: np.ndarray, box: Box) -> Box | None:
    """HOG's box for a face another detector found, or None when HOG cannot see it.

    dlib's landmark model (hence its encoding) was trained on HOG's boxes: measured on
    the Hamilton clip, Miranda encoded from YuNet's (remapped) box sat 0.575 from his
    photo, 0.476-0.543 from HOG's. So before encoding, HOG looks again at just the face,
    scaled to ~100 px wide (its window is 80 px): a few milliseconds a face. HOG finds
    near-frontal faces only, so None also says "turned away: wait for a better view"
    (YuNet also finds profiles and the sides of heads, which encode far from anyone).
    """
    top, right, bottom, left = box
    height, width = frame_bgr.shape[:2]
    size = max(right - left, bottom - top, 1)
    pad = size // 2
    y0, y1 = max(top - pad, 0), min(bottom + pad, height)
    x0, x1 = max(left - pad, 0), min(right + pad, width)
    factor = REFINE_FACE_PX / size
    gray = cv2.cvtColor(frame_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)
    found = detect(gray, 0)
    if not found:
        return None
    scaled = [
        (
            y0 + round(t / factor),
            x0 + round(r / factor),
            y0 + round(b / factor),
            x0 + round(lf / factor),
        )
        for (t, r, b, lf), _, _ in found
    ]
    cx, cy = (left + right) / 2, (top + bottom) / 2
    best = min(scaled, key=lambda b: abs((b[1] + b[3]) / 2 - cx) + abs((b[0] + b[2]) / 2 - cy))
    return (max(best[0], 0), min(best[1], width), min(best[2], height), max(best[3], 0))


def encode(frame_bgr: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """128-d encodings for boxes of a full-resolution BGR frame, as (len(boxes), 128) float32.

    Each face is encoded from a padded region around it so only that region is colour
    converted; the landmark model and the 150x150 chip need nothing else.
    """
    import dlib

    _, predictor, encoder = _dlib_models()
    out = np.empty((len(boxes), 128), dtype=np.float32)
    height, width = frame_bgr.shape[:2]
    for i, (top, right, bottom, left) in enumerate(boxes):
        pad = max(bottom - top, right - left) // 2
        y0, y1 = max(top - pad, 0), min(bottom + pad, height)
        x0, x1 = max(left - pad, 0), min(right + pad, width)
        roi = cv2.cvtColor(frame_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2RGB)
        factor = ENCODE_MIN_FACE_PX / max(right - left, 1)
        if factor > 1:
            # dlib samples the 150 px chip bilinearly; a small face upscaled bicubically
            # first gives a cleaner chip (measured: 0.64 -> 0.59 for a 29 px true match).
            roi = cv2.resize(roi, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        else:
            factor = 1.0
        rect = dlib.rectangle(
            round((left - x0) * factor),
            round((top - y0) * factor),
            round((right - x0) * factor),
            round((bottom - y0) * factor),
        )
        with DLIB_LOCK:
            shape = predictor(roi, rect)
            descriptor = encoder.compute_face_descriptor(roi, shape, 1)
        out[i] = np.asarray(descriptor, dtype=np.float32)
    return out


def sharpness(gray: np.ndarray, box: Box) -> float:
    """Variance of the Laplacian inside the box: low for blurred or smeared faces."""
    top, right, bottom, left = box
    patch = gray[top:bottom, left:right]
    if patch.size == 0:
        return 0.0
    return float(cv2.Laplacian(patch, cv2.CV_32F).var())


def view_quality(width_px: float, sharp: float, kind: int) -> float:
    """Bigger, sharper and frontal views score higher; used to decide re-encoding."""
    size = min(width_px, 200.0)  # past the 150 px chip size a bigger face adds nothing
    focus = min(sharp / 100.0, 1.0)
    frontal = 1.0 if kind == 0 else 0.7
    return size * (0.5 + 0.5 * focus) * frontal


def crop_jpeg(frame_bgr: np.ndarray, box: Box, margin: float = 0.25) -> bytes:
    """JPEG of the face with a margin, for a match's evidence (never called for non-matches)."""
    top, right, bottom, left = box
    height, width = frame_bgr.shape[:2]
    pad = int(max(bottom - top, right - left) * margin)
    region = frame_bgr[
        max(top - pad, 0) : min(bottom + pad, height), max(left - pad, 0) : min(right + pad, width)
    ]
    ok, buf = cv2.imencode(".jpg", region, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError("could not encode the face crop as JPEG")
    return buf.tobytes()


def encode_reference(path: Path, upsample: int = 1) -> np.ndarray | None:
    """The encoding of the largest face in a reference image file, or None if no face.

    Reference images get the careful treatment (full resolution, one upsample): they
    are encoded once, unlike stream frames.
    """
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot decode image {Path(path).name}")
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    # HOG on a 2,000 px photo costs seconds; detect on a copy, encode from the original.
    scale = min(1.0, REFERENCE_DETECT_MAX_SIDE / max(gray.shape[:2]))
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = detect(gray, upsample)
    if not found:
        return None
    box = max(found, key=lambda item: (item[0][1] - item[0][3]) * (item[0][2] - item[0][0]))[0]
    height, width = image.shape[:2]
    top, right, bottom, left = (round(v / scale) for v in box)
    return encode(image, [(max(top, 0), min(right, width), min(bottom, height), max(left, 0))])[0]
