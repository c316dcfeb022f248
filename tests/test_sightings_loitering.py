"""Sightings follow the person: a subject who stays in view keeps one card current.

Offline through the production pipeline and alert_raise, as a stream session drives them,
on a synthetic "loitering" sequence timed by frame time (never slept through): a real
photo in view for 70 s, 10 s of black, in view again for 20 s.
"""

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from recognition.models import Alert
from recognition.services import streams
from recognition.services.alerts import alert_raise
from tests.fixtures_recognition import watchlist_rows
from tests.helpers import faces

# Frame time between detection passes: sparse while the face is in view, to keep the
# test short; 1 s in the dark, so the 10 s gap outlasts the tracker's missed passes.
IN_VIEW_STEP, DARK_STEP = 3.0, 1.0
FRAMES_PER_PASS = 5  # frame numbers step by the pipeline's detect_every


@pytest.fixture(scope="module")
def portrait():
    photo = cv2.imread(str(faces("examples", "obama2.jpg")))
    scale = 360 / photo.shape[0]
    return cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def frame_with(photo, n):
    """A 960x540 frame with the photo, shifting a few pixels as a standing person does."""
    frame = np.full((540, 960, 3), 90, np.uint8)
    x, y = 300 + 3 * (n % 3), 80 + 2 * (n % 2)
    frame[y : y + photo.shape[0], x : x + photo.shape[1]] = photo
    return frame


def loitering(photo):
    """(frame, frame time in s, face in view) per detection pass: 70 s, 10 s black, 20 s."""
    black = np.zeros((540, 960, 3), np.uint8)
    plan = [True] * 24 + [False] * 10 + [True] * 7
    at, passes = 0.0, []
    for n, seen in enumerate(plan):
        passes.append((frame_with(photo, n) if seen else black, at, seen))
        at += IN_VIEW_STEP if seen else DARK_STEP
    return passes


def test_it_keeps_one_card_current_for_a_subject_who_loiters(stream_deployment, portrait):
    deployment = stream_deployment(rows=watchlist_rows("obama.jpg", "biden.jpg"))
    camera = deployment.cameras.get()
    pipeline = streams._pipeline_for(deployment)
    start = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    last_with_face = None
    for n, (frame, at, seen) in enumerate(loitering(portrait)):
        result = pipeline.process(frame, n * FRAMES_PER_PASS, at=at)
        if seen:
            last_with_face = start + timedelta(seconds=at)
        for match in result.matches:
            alert_raise(
                deployment=deployment,
                camera=camera,
                row_label=int(match.label),
                distance=match.distance,
                crop_jpeg=match.crop_jpeg,
                track_id=match.track_id,
                frame_at=start + timedelta(seconds=at),
            )
    alerts = list(Alert.objects.filter(deployment=deployment))
    print("alerts:", [(a.sightings, a.frame_at, a.last_seen_at) for a in alerts])
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.subject_reference == "obama"
    assert (last_with_face - alert.last_seen_at).total_seconds() <= 6
    # Reported at a bounded rate, never per pass: every ~5 s over ~90 s in view.
    assert 10 <= alert.sightings <= 20


def test_it_reports_a_subject_in_view_well_within_a_short_sighting_window(
    stream_deployment, settings
):
    deployment = stream_deployment(rows=watchlist_rows("obama.jpg"))
    assert streams._pipeline_for(deployment).config.resight_seconds == 5.0
    settings.LFR_SIGHTING_WINDOW_SECONDS = 4
    assert streams._pipeline_for(deployment).config.resight_seconds == 2.0
