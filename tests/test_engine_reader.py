"""The latest-frame reader: recognition gets the newest frame; nothing queues behind it."""

import queue
import time

import numpy as np
import pytest

from recognition.engine.sources import WAITING, LatestFrameReader


class Camera:
    """A live source the test feeds frame by frame (None ends the stream)."""

    live, fps, name, position = True, 25.0, "fake", 0

    def __init__(self):
        self.feed = queue.Queue()
        self.decoded = []
        self.closed = False
        self.no = 0

    def read(self, decode=True):
        if self.feed.get() is None:
            return None
        self.no += 1
        self.decoded.append(decode)
        return self.no - 1, np.zeros((4, 4, 3), np.uint8) if decode else None

    def close(self):
        self.closed = True


def until(condition, seconds=30.0):
    """Poll a condition with a deadline (never a fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached")
        time.sleep(0.01)


@pytest.fixture
def camera():
    return Camera()


def test_it_hands_out_the_newest_frame_and_drops_the_rest(camera):
    reader = LatestFrameReader(camera)
    for _ in range(10):
        camera.feed.put(1)
    until(lambda: reader.frames_in == 10)
    assert reader.take(0).frame_no == 9  # 0-8 were overwritten, never queued
    assert reader.take(0, timeout=0.01) is WAITING
    camera.feed.put(None)
    until(lambda: camera.closed)
    reader.close()


def test_it_decodes_only_frames_recognition_may_take(camera):
    reader = LatestFrameReader(camera, every=5)
    for _ in range(11):
        camera.feed.put(1)
    until(lambda: reader.frames_in == 11)
    # Nobody waiting: the first frame (no number yet), then one in five from `first`.
    assert [n for n, d in enumerate(camera.decoded) if d] == [0, 5, 10]
    camera.feed.put(None)
    reader.close()


def test_it_numbers_frames_on_across_a_reconnect(camera):
    reader = LatestFrameReader(camera, first_no=500)
    camera.feed.put(1)
    assert reader.take(500).frame_no == 500
    camera.feed.put(None)
    reader.close()


def test_it_reports_the_end_of_the_stream_after_the_last_frame(camera):
    reader = LatestFrameReader(camera)
    camera.feed.put(1)
    camera.feed.put(None)
    until(lambda: camera.closed)
    assert reader.take(0).frame_no == 0
    assert reader.take(0) is None
