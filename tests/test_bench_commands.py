"""Benchmarks report figures; these tests check what they report, never how fast."""

import json

import pytest
from django.core.management import call_command

from recognition.engine.bench import bench_match
from recognition.management.commands import bench_stream
from tests.helpers import faces

CLIP = faces("examples", "short_hamilton_clip.mp4")
KEYS = {
    "frames", "seconds", "video_seconds", "realtime_factor", "faces_detected",
    "faces_encoded", "alerts",
}  # fmt: skip


def test_it_times_matching_and_finds_the_planted_row():
    row = bench_match(3000, repeats=2, naive_rows=1000)
    assert row["encodings"] == 3000 and row["naive_extrapolated"]
    assert row["ours_ms"] > 0 and row["match_ms"] > 0 and row["face_distance_ms"] > 0


def test_it_prints_a_matching_table(capsys):
    call_command("bench_match", "--sizes", "1000,2000", "--naive-rows", "500")
    out = capsys.readouterr().out
    assert "     1,000" in out and "     2,000" in out and "scaled linearly" in out


def test_it_marks_an_extrapolated_baseline_in_the_table():
    data = {k: 1 for k in KEYS} | {"alerts": [{"subject": "a", "first_frame": 3}]}
    data |= {"cpu_seconds": 1, "cpu_realtime_factor": 1}
    base = data | {"extrapolated": True, "measured_frames": 60, "speedup": 30.0}
    base |= {"cpu_speedup": 28.0, "same_alerts": True, "only_pipeline": [], "only_baseline": []}
    lines = bench_stream.table([("clip", data | {"baseline": base})])
    assert any("clip baseline (60f*)" in line and "30.0x" in line for line in lines)
    assert any("extrapolated" in line for line in lines)
    assert any("same alerts as the baseline: yes" in line for line in lines)


@pytest.mark.slow
def test_it_alerts_both_hamilton_subjects_against_the_baseline(subject_folders, tmp_path):
    out = tmp_path / "bench.json"
    call_command(
        "bench_stream", "--video", str(CLIP),
        "--watchlist", str(subject_folders("lin-manuel-miranda", "alex-lacamoire")),
        "--baseline", "--baseline-frames", "6", "--json", str(out), "--detector", "hog",
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert KEYS <= set(result)
    assert result["frames"] == 275 and result["video_seconds"] == pytest.approx(9.18, abs=0.01)
    assert {a["subject"] for a in result["alerts"]} == {"lin-manuel-miranda", "alex-lacamoire"}
    assert set(result["alerts"][0]) == {"subject", "first_frame"}
    baseline = result["baseline"]
    assert KEYS | {"speedup"} <= set(baseline)
    assert baseline["extrapolated"] and baseline["measured_frames"] == 6
    assert baseline["frames"] == 275 and baseline["faces_encoded"] >= 1


@pytest.mark.slow
def test_it_raises_no_alert_for_obama_and_biden(subject_folders, tmp_path):
    out = tmp_path / "bench.json"
    call_command(
        "bench_stream", "--video", str(CLIP), "--watchlist",
        str(subject_folders("obama", "biden")), "--json", str(out),
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert result["alerts"] == [] and "baseline" not in result
    assert result["faces_encoded"] >= 1


def test_it_makes_an_upscaled_copy_of_the_clip(tmp_path):
    import cv2

    from recognition.management.commands.bench_all import upscale

    out = upscale(CLIP, tmp_path / "copy.mp4", size=(128, 72))
    capture = cv2.VideoCapture(str(out))
    assert capture.get(cv2.CAP_PROP_FRAME_WIDTH) == 128
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 275
    capture.release()
