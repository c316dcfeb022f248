"""The intake gate on real sample images and generated hostile files (engine only, no DB)."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from recognition.engine.intake import IntakeError, inspect_image
from tests import fixtures_watchlists as fx
from tests.helpers import faces

LIMITS = {"max_bytes": 10 * 2**20, "max_pixels": 40_000_000, "min_face_px": 80}


def refused(data: bytes, **limits) -> IntakeError:
    with pytest.raises(IntakeError) as info:
        inspect_image(data, **(LIMITS | limits))
    return info.value


def jpeg_of(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def test_it_accepts_a_clear_single_face():
    r = fx.obama()
    assert r.face_px >= 80 and r.sharpness > 20 and r.pose_score < 0.35
    assert r.encoding.dtype == np.float32 and r.encoding.shape == (128,)
    assert (r.width, r.height) == (910, 1137)
    assert len(r.pixel_sha256) == 64


def test_it_accepts_a_32_bit_png_with_alpha():
    r = fx.inspected("tests", "test_images", "32bit.png")
    assert Image.open(io.BytesIO(r.jpeg)).mode == "RGB"


def test_it_refuses_two_people():
    err = refused(faces("examples", "two_people.jpg").read_bytes())
    assert err.rule == "multiple_faces" and "2 faces" in err.message


@pytest.mark.parametrize("name", ["obama_partial_face.jpg", "obama_partial_face2.jpg"])
def test_it_refuses_partial_faces(name):
    err = refused(faces("tests", "test_images", name).read_bytes())
    assert err.rule == "partial_face"
    assert "cut off" in err.message


def test_it_refuses_a_face_below_the_minimum_size():
    err = refused(faces("examples", "obama-240p.jpg").read_bytes())
    assert err.rule == "face_too_small" and "80 px" in err.message


def test_it_refuses_a_blurred_face():
    rgb = np.asarray(Image.open(faces("examples", "obama.jpg")).convert("RGB"))
    blurred = cv2.GaussianBlur(rgb, (0, 0), 6)
    assert refused(jpeg_of(blurred)).rule == "blurry"


def test_it_refuses_a_strongly_tilted_face():
    rgb = np.asarray(Image.open(faces("examples", "obama.jpg")).convert("RGB"))
    centre = (501, 281)  # the face centre in obama.jpg
    matrix = cv2.getRotationMatrix2D(centre, 35, 1)
    rotated = cv2.warpAffine(rgb, matrix, rgb.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    err = refused(jpeg_of(rotated))
    assert err.rule == "pose" and "frontal" in err.message


def test_it_refuses_a_non_image():
    err = refused(b"Name,Reference\nJohn,S-1\n" * 20)
    assert err.rule == "format" and "JPEG and PNG" in err.message


def test_it_refuses_an_empty_file():
    assert refused(b"").rule == "format"


def test_it_refuses_a_truncated_jpeg():
    assert refused(fx.truncated_jpeg()).rule == "decode"


def test_it_refuses_a_png_bomb_before_decoding():
    data = fx.png_bomb()
    assert len(data) < 200_000  # tiny on disk, 400 million pixels declared
    err = refused(data)
    assert err.rule == "pixels" and "20000x20000" in err.message


def test_it_refuses_a_bomb_even_above_pillows_own_limit():
    err = refused(fx.png_bomb(side=20000), max_pixels=10_000)
    assert err.rule == "pixels"


def test_it_refuses_by_byte_size_before_parsing():
    data = faces("examples", "obama.jpg").read_bytes()
    err = refused(data, max_bytes=1024)
    assert err.rule == "bytes" and "1,024" in err.message


def test_it_refuses_svg():
    assert refused(fx.svg_text()).rule == "format"


def test_it_refuses_gif_even_named_as_jpeg():
    # The name and content type are never consulted: the bytes decide.
    assert refused(fx.gif_bytes()).rule == "format"


def test_it_refuses_webp():
    buf = io.BytesIO()
    Image.new("RGB", (100, 100)).save(buf, "WEBP")
    assert refused(buf.getvalue()).rule == "format"


def test_it_strips_html_appended_to_a_png():
    data = fx.png_with_html()
    assert b"<script>" in data
    r = inspect_image(data, **LIMITS)
    assert b"<script>" not in r.jpeg and b"html" not in r.jpeg
    assert r.jpeg.endswith(b"\xff\xd9")  # nothing after the JPEG end marker


def test_it_strips_exif_gps_and_icc():
    data = fx.jpeg_with_gps()
    original = Image.open(io.BytesIO(data))
    assert original.getexif().get_ifd(0x8825)  # the input really carries GPS
    r = inspect_image(data, **LIMITS)
    stored = Image.open(io.BytesIO(r.jpeg))
    assert not stored.getexif()
    assert "exif" not in stored.info and "icc_profile" not in stored.info
    assert fx.GPS_MARK.encode() not in r.jpeg and b"Exif" not in r.jpeg
    assert r.jpeg.endswith(b"\xff\xd9")


def test_it_names_the_rule_in_the_message_of_every_refusal():
    err = refused(fx.svg_text())
    assert isinstance(err, ValueError)
    assert str(err) == err.message


def test_it_refuses_a_truncated_png():
    data = fx.png_with_html()
    assert refused(data[: len(data) // 2]).rule == "decode"
