"""Watchlist matrix search: vectorised nearest equals the per-row loop."""

import numpy as np
import pytest

from recognition.engine.bench import random_unit_encodings
from recognition.engine.matching import Watchlist, naive_nearest


def test_it_matches_the_naive_loop():
    matrix = random_unit_encodings(500, seed=1)
    probes = random_unit_encodings(7, seed=2)
    probes[3] = matrix[42] + 0.01  # one probe close to a known row
    rows, distances = Watchlist(matrix, list(range(500))).nearest(probes)
    for probe, row, distance in zip(probes, rows, distances, strict=True):
        naive_row, naive_distance = naive_nearest(matrix, probe)
        assert row == naive_row
        assert distance == pytest.approx(naive_distance, abs=1e-4)
    assert rows[3] == 42


def test_it_agrees_with_face_distance_on_real_encodings(sample_encodings):
    from recognition.engine import face_api

    names = list(sample_encodings)
    matrix = np.stack([sample_encodings[n] for n in names])
    watchlist = Watchlist(matrix, names)
    for name in names:
        rows, distances = watchlist.nearest(sample_encodings[name][None, :] + 0.02)
        expected = face_api().face_distance(matrix, sample_encodings[name] + 0.02)
        assert watchlist.labels[rows[0]] == name
        assert distances[0] == pytest.approx(expected.min(), abs=1e-4)


def test_it_loads_float32_row_major_bytes():
    matrix = random_unit_encodings(3)
    watchlist = Watchlist.from_bytes(matrix.tobytes(), ["a", "b", "c"])
    assert watchlist.encodings.dtype == np.float32
    assert np.array_equal(watchlist.encodings, matrix)
    assert watchlist.nearest(matrix[1])[0][0] == 1


def test_it_refuses_a_blob_of_the_wrong_size():
    with pytest.raises(ValueError, match="expected 2 x 128"):
        Watchlist.from_bytes(random_unit_encodings(3).tobytes(), ["a", "b"])


def test_it_finds_nothing_in_an_empty_watchlist():
    rows, distances = Watchlist(np.empty((0, 128), np.float32), []).nearest(
        random_unit_encodings(2)
    )
    assert list(rows) == [-1, -1]
    assert np.isinf(distances).all()


def test_it_prefilters_big_watchlists_without_changing_decisions(monkeypatch):
    from recognition.engine import matching

    monkeypatch.setattr(matching, "PREFILTER_MIN_ROWS", 1000)
    matrix = random_unit_encodings(3000, seed=3)
    probes = random_unit_encodings(6, seed=4)
    probes[1] = matrix[7] + 0.02
    probes[4] = matrix[2999] - 0.03
    fast = Watchlist(matrix, list(range(3000)))
    assert fast._rotation is not None
    monkeypatch.setattr(matching, "PREFILTER_MIN_ROWS", 10**9)
    plain = Watchlist(matrix, list(range(3000)))
    for threshold in (0.3, 0.6, 1.2):
        rows, distances = fast.match(probes, threshold)
        expected_rows, expected = plain.nearest(probes)
        for row, distance, e_row, e_distance in zip(
            rows, distances, expected_rows, expected, strict=True
        ):
            if e_distance <= threshold:
                assert (row, distance) == (e_row, pytest.approx(e_distance, abs=1e-4))
            else:
                assert row == -1
    assert list(fast.match(probes, 0.6)[0][[1, 4]]) == [7, 2999]
