"""Faces seen are counted from tracks: a face missed for a few passes is still one face."""

from recognition.engine.pipeline import PipelineConfig
from recognition.engine.tracking import Tracker

DEFAULTS = PipelineConfig()


def tracker(config=DEFAULTS):
    return Tracker(
        min_iou=config.min_iou,
        max_centre_shift=config.max_centre_shift,
        max_missed_passes=config.max_missed_passes,
        min_hits=config.min_hits,
    )


def box_at(x, width=100):
    return (100, x + width, 100 + width, x)


def test_it_follows_a_face_that_walked_on_while_missed():
    t = tracker()
    first = t.update([box_at(0)], 0)[0][0]
    t.update([box_at(60)], 5)
    for frame in (10, 15):  # turned away for two passes, still walking 60 px a pass
        t.update([], frame)
    track, is_new = t.update([box_at(240)], 20)[0]
    assert (track.track_id, is_new) == (first.track_id, False)


def test_it_keeps_a_track_missed_for_a_few_passes_by_default():
    t = tracker()
    first = t.update([box_at(0)], 0)[0][0]
    for frame in range(5, 5 * (DEFAULTS.max_missed_passes + 1), 5):
        t.update([], frame)
    assert t.update([box_at(10)], 100)[0][0].track_id == first.track_id


def test_it_forgets_a_track_after_the_configured_missed_passes():
    t = tracker(PipelineConfig(max_missed_passes=1))
    first = t.update([box_at(0)], 0)[0][0]
    t.update([], 5)
    t.update([], 10)
    assert t.update([box_at(0)], 15)[0][0].track_id != first.track_id


def faces_seen(t, passes):
    total = 0
    for frame, boxes in enumerate(passes):
        t.update(boxes, frame * 5)
        total += t.count_faces()
    return total


def test_it_counts_a_face_followed_through_missed_passes_once():
    passes = [[box_at(20 * n)] for n in range(4)] + [[], [], []]
    passes += [[box_at(20 * n)] for n in range(7, 12)]
    assert faces_seen(tracker(), passes) == 1


def test_it_can_leave_out_a_detection_seen_on_one_pass_only():
    passes = [[box_at(0)]] + [[box_at(0), box_at(900)]] + [[box_at(0)]] * 8
    assert faces_seen(tracker(), passes) == 2  # by default every track is a face
    assert faces_seen(tracker(PipelineConfig(min_hits=2)), passes) == 1


def test_it_counts_two_people_as_two():
    passes = [[box_at(20 * n), box_at(800 - 20 * n)] for n in range(5)]
    assert faces_seen(tracker(), passes) == 2


def test_it_counts_a_matched_face_seen_once():
    t = tracker()
    track = t.update([box_at(0)], 0)[0][0]
    track.matched_labels.add(3)  # what the pipeline does on a match
    assert t.count_faces() == 1
