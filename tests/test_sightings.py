"""One alert per sighting: repeated matches of one subject update one alert.

Times are injected (`frame_at`): a long run is simulated, never slept through.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from recognition.models import Alert
from recognition.services.alerts import alert_raise
from tests.fixtures_recognition import watchlist_rows

CROP = b"\xff\xd8\xff\xe0" + b"\0" * 64


@pytest.fixture
def deployment(stream_deployment):
    return stream_deployment(rows=watchlist_rows("obama.jpg", "biden.jpg"), cameras=2)


def sight(deployment, *, at, row_label=0, distance=0.4, camera=None, track="t1", crop=CROP):
    return alert_raise(
        deployment=deployment,
        camera=camera or deployment.cameras.order_by("pk").first(),
        row_label=row_label,
        distance=distance,
        crop_jpeg=crop,
        track_id=track,
        frame_at=at,
    )


def test_it_gives_one_alert_for_a_subject_seen_for_ten_minutes(deployment):
    start = timezone.now() - timedelta(minutes=15)
    # A new track every 20 s (slices, hand-overs, lost tracks): 31 matches in 10 minutes.
    for n in range(31):
        sight(deployment, at=start + timedelta(seconds=20 * n), track=f"t{n}")
    alert = Alert.objects.get()
    assert alert.sightings == 31
    assert alert.last_seen_at == start + timedelta(minutes=10)
    assert alert.frame_at == start


def test_it_counts_sightings_rising_one_by_one(deployment):
    start = timezone.now() - timedelta(minutes=5)
    counts = []
    for n in range(5):
        sight(deployment, at=start + timedelta(seconds=30 * n), track=f"t{n}")
        counts.append(Alert.objects.get().sightings)
    assert counts == [1, 2, 3, 4, 5]


def test_it_raises_a_second_alert_when_the_subject_returns_after_the_window(deployment, settings):
    settings.LFR_SIGHTING_WINDOW_SECONDS = 60
    start = timezone.now() - timedelta(minutes=10)
    sight(deployment, at=start)
    sight(deployment, at=start + timedelta(seconds=50))
    sight(deployment, at=start + timedelta(seconds=50 + 61))  # unseen for 61 s
    first, second = Alert.objects.order_by("seq")
    assert (first.sightings, second.sightings) == (2, 1)
    assert second.frame_at == start + timedelta(seconds=111)


def test_it_keeps_different_subjects_apart(deployment):
    now = timezone.now()
    sight(deployment, at=now, row_label=0)
    sight(deployment, at=now, row_label=1)
    assert sorted(Alert.objects.values_list("subject_reference", flat=True)) == ["biden", "obama"]


def test_it_keeps_the_closest_match_crop_and_distance(deployment):
    now = timezone.now()
    sight(deployment, at=now, distance=0.45, crop=CROP + b"far")
    sight(deployment, at=now + timedelta(seconds=5), distance=0.32, crop=CROP + b"near")
    sight(deployment, at=now + timedelta(seconds=9), distance=0.40, crop=CROP + b"mid")
    alert = Alert.objects.get()
    assert (alert.distance, bytes(alert.crop)) == (0.32, CROP + b"near")


def test_it_records_every_camera_the_subject_was_seen_on(deployment):
    first, second = deployment.cameras.order_by("pk")
    now = timezone.now()
    sight(deployment, at=now, camera=first)
    sight(deployment, at=now + timedelta(seconds=3), camera=second)
    sight(deployment, at=now + timedelta(seconds=6), camera=first)
    alert = Alert.objects.get()
    assert (alert.camera_id, alert.camera_ids) == (first.pk, [first.pk, second.pk])


def test_it_gives_each_sighting_a_new_changed_seq(deployment):
    now = timezone.now()
    sight(deployment, at=now)
    alert = sight(deployment, at=now + timedelta(seconds=2))
    deployment.refresh_from_db()
    assert (alert.seq, alert.changed_seq, deployment.last_alert_seq) == (1, 2, 2)


def test_it_groups_a_frame_written_a_little_out_of_order(deployment):
    now = timezone.now()
    sight(deployment, at=now)
    sight(deployment, at=now - timedelta(seconds=10))
    alert = Alert.objects.get()
    assert (alert.sightings, alert.frame_at, alert.last_seen_at) == (2, now, now)


def test_it_audits_a_sighting_without_the_crop(deployment):
    now = timezone.now()
    sight(deployment, at=now)
    alert = sight(deployment, at=now + timedelta(seconds=1), distance=0.3)
    event = AuditEvent.objects.get(action="alert.sighted", object_id=str(alert.pk))
    assert event.details == {
        "deployment": deployment.pk,
        "camera": alert.camera_id,
        "seq": 1,
        "changed_seq": 2,
        "sightings": 2,
        "distance": 0.3,
        "closer": True,
    }


def test_it_counts_sightings_of_a_decided_alert_without_reopening_it(deployment, users):
    from recognition.services.adjudication import adjudication_record

    deployment.officers.add(users.officer)
    now = timezone.now()
    alert = sight(deployment, at=now, distance=0.45, crop=CROP + b"decided on")
    adjudication_record(
        alert=alert, by=users.officer, is_true_match=False, confirmed=True, outcome="no_action"
    )
    sight(deployment, at=now + timedelta(seconds=20), distance=0.2, crop=CROP + b"closer")
    alert = Alert.objects.get()
    # Still one decision, on the crop it was made on; only the count moves.
    assert alert.sightings == 2
    assert alert.adjudications.count() == 1
    assert (alert.distance, bytes(alert.crop)) == (0.45, CROP + b"decided on")


@pytest.mark.django_db(transaction=True)
def test_it_gives_one_alert_when_two_workers_raise_the_same_subject_at_once(stream_deployment):
    import threading

    from django.db import connection

    deployment = stream_deployment(rows=watchlist_rows("obama.jpg"), cameras=2)
    cameras = list(deployment.cameras.order_by("pk"))
    now = timezone.now()
    barrier = threading.Barrier(len(cameras))
    errors = []

    def worker(camera):
        try:
            barrier.wait()
            for n in range(5):
                # The same instant, bar a millisecond: frames of two cameras.
                at = now + timedelta(seconds=n, milliseconds=cameras.index(camera))
                sight(deployment, at=at, camera=camera, track=f"{n}")
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in cameras]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    alert = Alert.objects.get()
    assert alert.sightings == 10
    assert sorted(alert.camera_ids) == [c.pk for c in cameras]


def test_it_does_not_count_a_retried_write_of_the_same_sighting_twice(deployment):
    now = timezone.now()
    sight(deployment, at=now)
    again = now + timedelta(seconds=4)
    sight(deployment, at=again, track="t2")
    sight(deployment, at=again, track="t2")  # the stream side's retry after a lost commit
    assert Alert.objects.get().sightings == 2
    assert AuditEvent.objects.filter(action="alert.sighted").count() == 1
