"""The tracker keeps a face's identity across detection passes from geometry alone."""

import dataclasses

from recognition.engine.tracking import Track, Tracker


def make_tracker(**kw):
    return Tracker(min_iou=0.3, max_centre_shift=0.75, max_missed_passes=kw.get("missed", 2))


def test_it_keeps_identity_across_frames():
    tracker = make_tracker()
    first = tracker.update([(100, 200, 200, 100)], 0)[0][0]
    for frame, dx in ((5, 20), (10, 45), (15, 70)):  # walking right, 20-25 px per pass
        track, is_new = tracker.update([(100, 200 + dx, 200, 100 + dx)], frame)[0]
        assert track.track_id == first.track_id
        assert not is_new


def test_it_tells_two_faces_apart():
    tracker = make_tracker()
    a, b = (t for t, _ in tracker.update([(100, 200, 200, 100), (100, 600, 200, 500)], 0))
    # Next pass lists them in the other order, each moved a little.
    (b2, _), (a2, _) = tracker.update([(105, 610, 205, 510), (105, 210, 205, 110)], 5)
    assert (a2.track_id, b2.track_id) == (a.track_id, b.track_id)
    assert a.track_id != b.track_id


def test_it_starts_a_new_track_for_a_face_elsewhere():
    tracker = make_tracker()
    tracker.update([(100, 200, 200, 100)], 0)
    _, is_new = tracker.update([(100, 200, 200, 100), (300, 900, 400, 800)], 5)[1]
    assert is_new


def test_it_forgets_a_track_after_missed_passes():
    tracker = make_tracker(missed=2)
    old = tracker.update([(100, 200, 200, 100)], 0)[0][0]
    for frame in (5, 10, 15):
        tracker.update([], frame)
    track, is_new = tracker.update([(100, 200, 200, 100)], 20)[0]
    assert is_new and track.track_id != old.track_id


def test_it_does_not_age_small_tracks_on_passes_that_cannot_see_them():
    tracker = make_tracker(missed=1)
    small = tracker.update([(100, 130, 130, 100)], 0)[0][0]  # 30 px wide
    for frame in (5, 10, 15):
        tracker.update([], frame, visible_from=100)
    assert tracker.update([(100, 131, 130, 101)], 20)[0][0].track_id == small.track_id


def test_it_keeps_no_encoding_or_pixels_in_a_track():
    assert {f.name for f in dataclasses.fields(Track)} == {
        "track_id", "box", "last_seen", "missed", "hits", "counted", "best_quality", "encodes",
        "matched_labels", "still", "looks", "matched_distances", "reported_at",
    }  # fmt: skip
    # looks: labels and counts of matches awaiting evidence, never an encoding;
    # matched_distances: a float per label the track matched; reported_at: a frame time.


def test_it_counts_the_passes_a_box_has_not_moved():
    tracker = make_tracker()
    logo = (50, 150, 150, 50)
    stills = [tracker.update([logo], n * 5)[0][0].still for n in range(4)]
    assert stills == [0, 1, 2, 3]  # a logo or a poster: PipelineConfig.static_passes
    moved = tracker.update([(52, 152, 152, 52)], 20)[0][0]
    assert moved.still == 0  # people move: 2 px resets it
