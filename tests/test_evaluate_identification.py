"""Open-set 1:N evaluation: exact bounds, the searches' counts, the command on real images."""

import json
import os

import cv2
import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recognition.engine import identification as ident
from recognition.models import EvaluationRun
from tests.helpers import data_path, faces


def test_it_bounds_zero_errors_by_the_rule_of_three():
    # 0 of 11,564 distinct-person comparisons: the 95 % bound, 2.6e-4 (~3/n).
    assert ident.upper_bound(0, 11_564) == pytest.approx(2.59e-4, rel=1e-3)
    assert ident.upper_bound(0, 11_564) == pytest.approx(3 / 11_564, rel=0.01)


def test_it_gives_exact_clopper_pearson_bounds():
    # Reference values of the exact binomial method (R: binom.test).
    assert ident.upper_bound(3, 100) == pytest.approx(0.07571, abs=1e-5)
    low, high = ident.interval(5, 10)
    assert (low, high) == (pytest.approx(0.18709, abs=1e-5), pytest.approx(0.81291, abs=1e-5))
    assert ident.interval(0, 10) == [0.0, pytest.approx(0.30850, abs=1e-5)]
    assert ident.interval(10, 10)[1] == 1.0 and ident.upper_bound(1, 0) is None


def test_it_implies_the_false_alert_rate_of_a_watchlist_from_the_comparison_bound():
    # At 0.40 % per comparison: 33 % of passers-by at 100 entries, ~100 % at 1,000.
    assert ident.implied_fpir(0.004, 100) == pytest.approx(0.330, abs=1e-3)
    assert ident.implied_fpir(0.004, 1_000) > 0.98
    assert ident.implied_fpir(2.59e-4, 1_000) == pytest.approx(0.228, abs=1e-3)


def test_it_chooses_the_loosest_threshold_whose_bound_meets_the_policy():
    rows = [
        {"threshold": 0.45, "fmr_upper": 1e-6, "tpir": 0.80},
        {"threshold": 0.50, "fmr_upper": 5e-6, "tpir": 0.90},
        {"threshold": 0.55, "fmr_upper": 1e-4, "tpir": 0.97},
    ]
    chosen = ident.choose_operating_point(rows, watchlist_size=100, max_false_alert_rate=0.001)
    assert chosen["threshold"] == 0.50 and chosen["tpir"] == 0.90
    assert chosen["fpir_bound"] == pytest.approx(1 - (1 - 5e-6) ** 100)
    # 1,000 entries at 1e-6 each: bound 0.1 %, just within; 16,000 entries: nothing is.
    assert (
        ident.choose_operating_point(rows, watchlist_size=1_000, max_false_alert_rate=0.001)[
            "threshold"
        ]
        == 0.45
    )
    assert (
        ident.choose_operating_point(rows, watchlist_size=16_000, max_false_alert_rate=0.001)
        is None
    )


def _enc(*values):
    vector = np.zeros(128)
    vector[: len(values)] = values
    return vector


def test_it_counts_hits_wrong_identities_false_alerts_and_comparisons():
    gallery = [("amy", _enc(0.0)), ("amy", _enc(1.0)), ("bob", _enc(0, 1.0))]
    probes = [
        ("amy", _enc(0.9)),  # 0.1 from amy's second image: a hit at 0.2
        ("bob", _enc(0.3)),  # bob 1.04 away, amy 0.3: a wrong identity at 0.3
        ("bob", None),  # no face: a miss
        ("zed", _enc(0, 0.75)),  # a stranger 0.25 from bob: a false alert at 0.3
        ("zed", None),  # a stranger with no face: left out
    ]
    result = ident.identify(gallery, probes, [0.2, 0.3])
    low, high = result["thresholds"]
    assert (result["mated"], result["non_mated"], result["non_mated_no_face"]) == (3, 1, 1)
    # Each searched probe against each identity that is not its own: 1 + 1 + 2.
    assert result["comparisons"] == 4
    assert (low["tpir"], low["wrong_identity_alerts"], low["fpir"]) == (pytest.approx(1 / 3), 0, 0)
    assert (high["wrong_identity_alerts"], high["fpir"], high["false_matches"]) == (1, 1.0, 2)
    assert high["implied_fpir"]["100"] == pytest.approx(
        1 - (1 - high["fmr_upper"]) ** 100, rel=1e-3
    )


def test_it_searches_in_blocks_with_the_same_result():
    gallery = ident.synthetic_encodings(50, 2, seed=3)
    probes = ident.synthetic_encodings(50, 1, seed=4) + [
        (f"x{i}", e) for i, (_, e) in enumerate(ident.synthetic_encodings(30, 1, seed=5))
    ]
    grid = [0.3, 0.4, 0.5, 0.6]
    assert ident.identify(gallery, probes, grid, chunk=7) == ident.identify(gallery, probes, grid)


def test_it_searches_a_million_synthetic_impostor_pairs_in_seconds():
    reported = []
    out = ident.bench(gallery_size=1_000, non_mated=1_000)
    assert out["comparisons"] == 1_000_000
    ident.identify(*_small_synthetic(), [0.5], progress=reported.append)
    assert reported and reported[-1].startswith("searched")


def _small_synthetic():
    return ident.synthetic_encodings(3, 1), ident.synthetic_encodings(3, 1, seed=9)


@pytest.fixture
def labelled(tmp_path):
    """Obama and Biden in the gallery; Obama as a mated probe, Lennon as a passer-by."""
    layout = {
        "gallery/obama/obama.jpg": faces("examples", "obama.jpg"),
        "gallery/biden/biden.jpg": faces("examples", "biden.jpg"),
        "probes/obama/obama1.jpg": faces("examples", "knn_examples", "test", "obama1.jpg"),
        "probes/lennon/lennon-1.jpg": data_path(
            "faces", "openface", "images", "examples", "lennon-1.jpg"
        ),
    }
    for name, source in layout.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(source, tmp_path / name)
    (tmp_path / "probes" / "blank").mkdir()
    blank = np.full((200, 200, 3), 128, dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "probes" / "blank" / "grey.png"), blank)
    return tmp_path


def test_it_evaluates_real_images_and_stores_the_run(labelled, db, capsys):
    out_file = labelled / "result.json"
    call_command(
        "evaluate_identification",
        "--gallery", str(labelled / "gallery"),
        "--probes", str(labelled / "probes"),
        "--thresholds", "0.40:0.60:0.05",
        "--watchlist-size", "10",
        "--json", str(out_file),
    )  # fmt: skip
    result = json.loads(out_file.read_text())
    point = result["operating_point"]
    assert (point["mated"], point["non_mated"], point["watchlist_size"]) == (1, 1, 10)
    # obama1 is within 0.55 of obama.jpg; the grey image has no face (a stranger, left out).
    assert {r["threshold"]: r["tpir"] for r in result["thresholds"]}[0.55] == 1.0
    assert result["non_mated_no_face"] == 1 and result["no_face"] == ["probes/blank/grey.png"]
    assert result["comparisons"] == 1 + 2  # obama1 vs biden; lennon vs both
    run = EvaluationRun.objects.get()
    assert run.kind == "identification" and run.summary["identities"] == 2
    assert "TPIR" in capsys.readouterr().out


def test_it_refuses_a_missing_folder(tmp_path, db):
    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "evaluate_identification", "--gallery", str(tmp_path / "x"), "--probes", str(tmp_path)
        )


def test_it_times_synthetic_searches_without_storing(db, capsys):
    call_command("evaluate_identification", "--synthetic", "100")
    assert "10,000 synthetic impostor comparisons" in capsys.readouterr().out
    assert not EvaluationRun.objects.exists()


def test_it_bounds_nothing_where_no_comparison_was_made():
    rows = [{"threshold": 0.5, "fmr_upper": None, "tpir": None}]
    assert ident.figures_at(rows, 0.5, 10)["fpir_bound"] == 1.0
    assert ident.figures_at(rows, 0.6, 10)["fpir_bound"] == 1.0  # looser than any row
