"""evaluate_pairs: rates per threshold, no-face images, target false-match rates, stored runs."""

import csv
import json

import cv2
import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from recognition.engine.evaluation import (
    PairsError,
    parse_thresholds,
    rates,
    read_pairs,
    resolve_images,
)
from recognition.management.commands.evaluate_pairs import DEFAULT_PAIRS
from recognition.models import EvaluationRun
from tests.helpers import faces

FACES_DIR = faces().parent


def test_it_parses_a_threshold_range_including_its_end():
    values = parse_thresholds("0.30:0.80:0.01")
    assert len(values) == 51 and values[0] == 0.3 and values[-1] == 0.8
    assert parse_thresholds("0.4,0.5") == [0.4, 0.5]


@pytest.mark.parametrize("spec", ["0.8:0.3:0.01", "a:b:c", "0.3:0.8:0", "3"])
def test_it_refuses_bad_thresholds(spec):
    with pytest.raises(PairsError):
        parse_thresholds(spec)


def test_it_computes_rates_at_a_threshold():
    distances = np.array([0.3, 0.5, 0.7, 0.4, 0.9, 0.6])
    same = np.array([True, True, True, False, False, False])
    assert rates(distances, same, 0.55) == {
        "threshold": 0.55, "tpr": 0.6667, "fpr": 0.3333, "accuracy": 0.6667,
    }  # fmt: skip


def test_it_resolves_unique_names_and_relative_paths():
    paths = resolve_images(
        {"lin-manuel-miranda.png", "face_recognition/examples/obama.jpg"}, FACES_DIR
    )
    assert paths["lin-manuel-miranda.png"].name == "lin-manuel-miranda.png"
    assert paths["face_recognition/examples/obama.jpg"].parent.name == "examples"


@pytest.mark.parametrize(
    "name, why",
    [("obama.jpg", "ambiguous"), ("nobody.jpg", "not found"), ("../x.jpg", "not found")],
)
def test_it_refuses_ambiguous_missing_or_outside_images(name, why):
    with pytest.raises(PairsError, match=why):
        resolve_images({name}, FACES_DIR)


def test_it_ships_pairs_that_all_resolve():
    pairs = read_pairs(DEFAULT_PAIRS)
    assert len(pairs) == 378 and sum(p.same for p in pairs) == 65
    names = {p.file_x for p in pairs} | {p.file_y for p in pairs}
    assert len(resolve_images(names, FACES_DIR)) == 28


@pytest.fixture
def small_set(tmp_path):
    """Four sample faces plus a blank image, and pairs over them."""
    images = tmp_path / "images"
    images.mkdir()
    for name in ("obama.jpg", "obama2.jpg", "biden.jpg", "alex-lacamoire.png"):
        (images / name).symlink_to(faces("examples", name))
    cv2.imwrite(str(images / "blank.png"), np.full((200, 200, 3), 128, np.uint8))
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file_x", "file_y", "decision"])
        writer.writerow(["obama.jpg", "obama2.jpg", "Yes"])
        writer.writerow(["obama.jpg", "biden.jpg", "No"])
        writer.writerow(["biden.jpg", "alex-lacamoire.png", "No"])
        writer.writerow(["blank.png", "obama.jpg", "Yes"])
    return pairs, images


@pytest.mark.django_db
def test_it_writes_rates_and_stores_a_run(small_set, tmp_path, capsys):
    pairs, images = small_set
    out = tmp_path / "out.json"
    call_command(
        "evaluate_pairs", "--pairs", str(pairs), "--images", str(images),
        "--thresholds", "0.30:0.80:0.01", "--json", str(out),
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert {"thresholds", "operating_point", "no_face"} <= set(result)
    assert set(result["thresholds"][0]) == {"threshold", "tpr", "fpr", "accuracy"}
    assert len(result["thresholds"]) == 51
    assert result["no_face"] == ["blank.png"]
    assert result["scored_pairs"] == 3
    at_06 = next(r for r in result["thresholds"] if r["threshold"] == 0.6)
    assert at_06 == {"threshold": 0.6, "tpr": 1.0, "fpr": 0.0, "accuracy": 1.0}
    assert result["operating_point"]["threshold"] == settings.LFR_THRESHOLD_DEFAULT
    assert result["target_fmr"][0]["target_fmr"] == 0
    run = EvaluationRun.objects.get()
    assert run.pairs == 4 and run.no_face == ["blank.png"]
    assert run.thresholds == result["thresholds"]
    assert run.operating_threshold == settings.LFR_THRESHOLD_DEFAULT
    printed = capsys.readouterr().out
    assert "no face found: blank.png" in printed and "false-match rate <= 0.01" in printed


@pytest.mark.django_db
def test_it_refuses_a_pairs_file_with_a_bad_decision(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("file_x,file_y,decision\na.jpg,b.jpg,Maybe\n")
    with pytest.raises(CommandError, match="line 2: decision must be Yes or No"):
        call_command("evaluate_pairs", "--pairs", str(pairs), "--images", str(tmp_path))
    assert not EvaluationRun.objects.exists()
