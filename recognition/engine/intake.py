"""Strict intake of a watchlist reference image: decode, gate on quality, re-encode.

Plain Python (Pillow, numpy, OpenCV, face_recognition); no Django. Every refusal is an
IntakeError whose `rule` names the check that failed, so pages and the API can say why.

Order matters for safety: the byte limit is checked before anything is parsed, the format
is decided from the leading bytes and Pillow's decoder (never the file name or content
type), and the pixel count is read from the header before any pixel is decoded, so a
decompression bomb is refused without allocating its bitmap.
"""

import hashlib
import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin

from recognition.engine import face_api

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Detection runs on a copy whose longer side is at most this (HOG on a 2,000 px image
# costs seconds); face size is measured back in the original's pixels. With one
# upsample HOG finds faces down to ~40 px in the copy, so ~80 px at 2,048 px originals.
DETECT_MAX_SIDE = 1024

# Sharpness = variance of the Laplacian over the face crop resized to SHARP_SIDE square,
# so the figure does not depend on the photo's resolution. Measured on the 24 single-face
# sample portraits (../shared/data/faces): 30 (alex-lacamoire.png, a soft video still),
# 99 (lennon-2), 121 (lin-manuel-miranda.png), the rest 197-1,142 (obama.jpg 496). The
# same faces with a slight Gaussian blur (sigma = face height / 60, ~4 px on a 250 px
# face) fall to 4-13; only the 62 px face of obama-240p keeps 98, and it is refused as
# too small anyway. 20 sits between the two groups.
SHARP_SIDE = 160
MIN_SHARPNESS = 20.0

# Pose score: the larger of yaw (offset of the nose tip from the eye midpoint along the
# eye line, over inter-ocular distance) and roll (tilt of the eye line, degrees / 60);
# 0 = frontal, 1 = extreme. The accepted sample portraits score 0.01-0.22 (biden.jpg's
# head is tilted ~13 degrees); a roll of 35 degrees alone scores 0.58. 0.35 refuses
# tilts beyond ~21 degrees and yaw where the nose sits a third of the eye distance off
# centre. The partial faces (obama_partial_face*.jpg) score a frontal
# 0.06 because the landmarks are extrapolated: they are refused by the edge rule below.
MAX_POSE = 0.35

# A face box touching the frame edge means the face is cut off and the encoding would
# describe part of a face: obama_partial_face.jpg's box starts at x = 0 and
# obama_partial_face2.jpg's ends at x = width; every full sample face keeps a margin of >= 34 px.
EDGE_MARGIN = 2

JPEG_QUALITY = 92


class IntakeError(ValueError):
    """An image refused by the intake gate; `rule` names the check that failed."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message

    def __str__(self):
        return self.message


@dataclass
class IntakeResult:
    """A decoded, checked and re-encoded reference image with its face measurements."""

    jpeg: bytes
    width: int
    height: int
    face_box: tuple[int, int, int, int]  # top, right, bottom, left in original pixels
    face_px: int
    sharpness: float
    pose_score: float
    encoding: np.ndarray  # float32, shape (128,)
    pixel_sha256: str


def _jpeg_complete(data: bytes) -> bool:
    """True when the JPEG's segments and scans run through to an EOI marker.

    face_recognition sets Pillow's LOAD_TRUNCATED_IMAGES on import (process-wide), after
    which Pillow pads a cut-off JPEG with grey instead of failing. So we walk the marker
    structure ourselves: segment lengths up to the first scan, then entropy-coded data
    (where 0xFF is followed by 0x00 or a restart marker) until the next marker.
    """
    i, n = 2, len(data)
    while i + 2 <= n:
        if data[i] != 0xFF:
            return False
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            return True
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        if i + 4 > n:
            return False
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        i += 2 + length
        if marker != 0xDA:
            continue
        while i + 1 < n:  # entropy-coded scan data
            if data[i] == 0xFF and data[i + 1] != 0x00 and not 0xD0 <= data[i + 1] <= 0xD7:
                break
            i += 1
        else:
            return False
    return False


def _png_complete(data: bytes) -> bool:
    """True when every PNG chunk is whole through IEND (same reason as for JPEG)."""
    i, n = len(PNG_MAGIC), len(data)
    while i + 12 <= n:
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        i += 12 + length
        if i > n:
            return False
        if kind == b"IEND":
            return True
    return False


_OPENERS = {"JPEG": JpegImagePlugin.JpegImageFile, "PNG": PngImagePlugin.PngImageFile}
_COMPLETE = {"JPEG": _jpeg_complete, "PNG": _png_complete}


def _decode(data: bytes, *, max_bytes: int, max_pixels: int) -> Image.Image:
    if len(data) > max_bytes:
        raise IntakeError(
            "bytes", f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes."
        )
    if data.startswith(JPEG_MAGIC):
        fmt = "JPEG"
    elif data.startswith(PNG_MAGIC):
        fmt = "PNG"
    else:
        raise IntakeError("format", "Only JPEG and PNG images are accepted.")
    try:
        # The format's own parser reads the header only. (Image.open would also apply
        # Pillow's process-wide bomb limit; ours, below, reports the declared size.)
        img = _OPENERS[fmt](io.BytesIO(data))
    except Exception:
        raise IntakeError("format", "The file is not a valid JPEG or PNG image.") from None
    width, height = img.size
    if width * height > max_pixels:
        raise IntakeError(
            "pixels",
            f"The image is {width}x{height} = {width * height:,} pixels; "
            f"the limit is {max_pixels:,}.",
        )
    if getattr(img, "n_frames", 1) > 1:
        raise IntakeError("format", "Animated images are not accepted.")
    if not _COMPLETE[fmt](data):
        raise IntakeError("decode", "The image is truncated: its data ends before the image does.")
    try:
        img.load()  # decode every pixel now, so damaged data fails here
    except Exception:
        raise IntakeError("decode", "The image is damaged and cannot be decoded.") from None
    return img


def _to_rgb(img: Image.Image) -> np.ndarray:
    img = ImageOps.exif_transpose(img)  # honour the camera's rotation before EXIF is dropped
    if img.mode in {"RGBA", "LA", "PA"} or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        # Flatten onto white: pixels hidden under full transparency must not survive.
        base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(base, rgba)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def _detect(fr, rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
    small = rgb
    if scale < 1.0:
        small = cv2.resize(
            rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
    boxes = fr.face_locations(small, number_of_times_to_upsample=1, model="hog")
    if not boxes and max(small.shape[:2]) <= 640:
        boxes = fr.face_locations(small, number_of_times_to_upsample=2, model="hog")
    out = []
    for top, right, bottom, left in boxes:
        out.append(
            (
                max(0, round(top / scale)),
                min(width, round(right / scale)),
                min(height, round(bottom / scale)),
                max(0, round(left / scale)),
            )
        )
    return out


def sharpness_of(rgb: np.ndarray, box: tuple[int, int, int, int]) -> float:
    top, right, bottom, left = box
    crop = rgb[max(0, top) : bottom, max(0, left) : right]
    if crop.size == 0:
        return 0.0
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    gray = cv2.resize(gray, (SHARP_SIDE, SHARP_SIDE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def pose_of(landmarks: dict) -> float:
    """0 = frontal; grows with yaw (nose off the eye midpoint) and roll (tilted eye line)."""
    left_eye = np.mean(np.asarray(landmarks["left_eye"], dtype=float), axis=0)
    right_eye = np.mean(np.asarray(landmarks["right_eye"], dtype=float), axis=0)
    nose = np.mean(np.asarray(landmarks["nose_tip"], dtype=float), axis=0)
    axis = right_eye - left_eye
    interocular = float(np.linalg.norm(axis))
    if interocular < 1.0:
        return 1.0
    unit = axis / interocular
    midpoint = (left_eye + right_eye) / 2
    yaw = abs(float(np.dot(nose - midpoint, unit))) / interocular
    roll = abs(float(np.degrees(np.arctan2(axis[1], axis[0]))))
    roll = min(roll, 180 - roll) / 60  # 0 level, 0.5 at 30 degrees
    return round(min(1.0, max(yaw, roll)), 4)


def _reencode(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    # A fresh image from the pixel array carries no info dict: no EXIF, GPS, ICC, comments.
    Image.fromarray(rgb, "RGB").save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def inspect_image(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    min_face_px: int,
    min_sharpness: float = MIN_SHARPNESS,
    max_pose: float = MAX_POSE,
) -> IntakeResult:
    """Check `data` against every intake rule; raise IntakeError naming the first failure."""
    img = _decode(data, max_bytes=max_bytes, max_pixels=max_pixels)
    rgb = _to_rgb(img)
    height, width = rgb.shape[:2]
    fr = face_api()
    boxes = _detect(fr, rgb)
    if not boxes:
        raise IntakeError("no_face", "No face was found in the image.")
    if len(boxes) > 1:
        raise IntakeError(
            "multiple_faces",
            f"{len(boxes)} faces were found; a reference image must show exactly one person.",
        )
    box = boxes[0]
    top, right, bottom, left = box
    face_px = bottom - top
    if face_px < min_face_px:
        raise IntakeError(
            "face_too_small",
            f"The face is {face_px} px high; at least {min_face_px} px is required.",
        )
    if (
        top <= EDGE_MARGIN
        or left <= EDGE_MARGIN
        or bottom >= height - EDGE_MARGIN
        or right >= width - EDGE_MARGIN
    ):
        raise IntakeError(
            "partial_face", "The face is cut off by the edge of the image; use a full face."
        )
    sharpness = sharpness_of(rgb, box)
    if sharpness < min_sharpness:
        raise IntakeError(
            "blurry",
            f"The face is too blurry (sharpness {sharpness:.0f}, at least {min_sharpness:.0f}).",
        )
    marks = fr.face_landmarks(rgb, [box], model="large")
    pose = pose_of(marks[0]) if marks else 1.0
    if pose > max_pose:
        raise IntakeError(
            "pose",
            f"The face is turned or tilted too far (pose {pose:.2f}, at most {max_pose:.2f}); "
            "use a frontal image.",
        )
    encodings = fr.face_encodings(rgb, [box])
    if not encodings:
        raise IntakeError("no_face", "No face encoding could be computed for the image.")
    encoding = np.asarray(encodings[0], dtype=np.float32)
    digest = hashlib.sha256(f"{width}x{height}:".encode() + rgb.tobytes()).hexdigest()
    return IntakeResult(
        jpeg=_reencode(rgb),
        width=width,
        height=height,
        face_box=box,
        face_px=face_px,
        sharpness=round(sharpness, 2),
        pose_score=pose,
        encoding=encoding,
        pixel_sha256=digest,
    )
