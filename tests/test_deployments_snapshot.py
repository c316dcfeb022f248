"""The watchlist frozen at authorisation, and its destruction after the end + grace."""

from datetime import date, timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditEvent
from deployments import services
from deployments.models import DeploymentWatchlist
from tests.fixtures_deployments import make_entry, random_encoding
from tests.helpers import faces


def _encoding_of(name: str) -> bytes:
    from recognition.engine import face_api

    api = face_api()
    image = api.load_image_file(str(faces("examples", name)))
    (encoding,) = api.face_encodings(image)
    return np.asarray(encoding, dtype=np.float32).tobytes()


def test_it_freezes_approved_entries_at_authorisation(deployment_in_state, users):
    a = make_entry(users.contributor, users.manager, category="wanted")
    b = make_entry(users.contributor, users.manager, category="suspect")
    make_entry(users.contributor, users.manager, category="missing")  # category not chosen
    make_entry(users.contributor, users.manager, category="wanted", state="pending")
    d = deployment_in_state("authorised", watchlist_categories=["wanted", "suspect"])
    wl = d.watchlist
    assert sorted(wl.entry_ids) == sorted([a.pk, b.pk])
    assert wl.size_by_category == {"wanted": 1, "suspect": 1}
    assert wl.entry_count == 2
    matrix = np.frombuffer(wl.encodings, dtype=np.float32).reshape(-1, 128)
    assert matrix.shape == (2, 128)


def test_an_entry_approved_after_authorisation_is_not_in_the_snapshot(deployment_in_state, users):
    before = make_entry(users.contributor, users.manager)
    d = deployment_in_state("authorised")
    after = make_entry(users.contributor, users.manager)
    services.lifecycle_tick(now=d.starts_at)
    d.refresh_from_db()
    assert d.state == "live"
    wl = DeploymentWatchlist.objects.get(deployment=d)
    assert wl.entry_ids == [before.pk]
    assert after.pk not in wl.entry_ids


def test_rows_follow_images_not_entries(deployment_in_state, users):
    # An entry with two reference images contributes two rows, each labelled with it.
    obama = [_encoding_of("obama.jpg"), _encoding_of("obama2.jpg")]
    biden = [_encoding_of("biden.jpg")]
    e1 = make_entry(users.contributor, users.manager, encodings=obama)
    e2 = make_entry(users.contributor, users.manager, encodings=biden)
    wl = deployment_in_state("authorised").watchlist
    assert wl.entry_ids == [e1.pk, e1.pk, e2.pk]
    assert wl.subject_references == [e1.subject.reference] * 2 + [e2.subject.reference]
    assert wl.entry_count == 2
    matrix = np.frombuffer(wl.encodings, dtype=np.float32).reshape(-1, 128)
    assert matrix.shape == (3, 128)
    # The copy is byte-for-byte the enrolled encoding, so matching stays true to it.
    assert matrix[2].tobytes() == biden[0]
    assert np.linalg.norm(matrix[0] - matrix[1]) < 0.6  # the same person, two photos
    assert np.linalg.norm(matrix[0] - matrix[2]) > 0.6  # different people


def test_it_refuses_authorisation_when_the_watchlist_is_larger_than_authorised(
    deployment_in_state, users
):
    for _ in range(3):
        make_entry(users.contributor, users.manager)
    d = deployment_in_state("submitted", max_watchlist_size=2)
    with pytest.raises(ValidationError, match="has 3 entries, more than the maximum of 2"):
        services.deployment_authorise(deployment=d, by=users.authoriser)
    d.refresh_from_db()
    assert d.state == "submitted"
    assert not DeploymentWatchlist.objects.filter(deployment=d).exists()


def test_it_excludes_minors_unless_the_plan_includes_them(deployment_in_state, users):
    adult = make_entry(users.contributor, users.manager, dob=date(1990, 1, 1))
    minor_dob = date.today().replace(year=date.today().year - 15)
    minor = make_entry(users.contributor, users.manager, dob=minor_dob)
    wl = deployment_in_state("authorised").watchlist
    assert wl.entry_ids == [adult.pk] and wl.excluded_minors == 1
    assert minor.pk not in wl.entry_ids


def test_retention_destroys_encodings_after_end_plus_grace_and_leaves_a_receipt(
    deployment_in_state, users, settings
):
    make_entry(users.contributor, users.manager)
    make_entry(users.contributor, users.manager, encodings=[random_encoding(1), random_encoding(2)])
    d = deployment_in_state("completed")
    ids = list(d.watchlist.entry_ids)
    grace = timedelta(hours=settings.LFR_WATCHLIST_GRACE_HOURS)

    assert (
        services.watchlist_retention(now=d.ended_at + grace - timedelta(minutes=1))["destroyed"]
        == 0
    )
    assert DeploymentWatchlist.objects.get(deployment=d).encodings is not None

    result = services.watchlist_retention(now=d.ended_at + grace)
    assert result == {"destroyed": 1, "rows": 3, "deployment_ids": [d.pk]}
    wl = DeploymentWatchlist.objects.get(deployment=d)
    assert wl.encodings is None and wl.destroyed_at is not None
    assert wl.entry_ids == ids  # the id list remains
    receipt = AuditEvent.objects.get(action="retention.deployment_watchlists")
    assert receipt.details["deployment_ids"] == [d.pk]
    assert receipt.details["rows_destroyed"] == 3 and receipt.details["destroyed"] == 1
    assert "encodings" not in receipt.details and "entry_ids" not in receipt.details
    # Run again: nothing left to destroy, no second receipt.
    assert services.watchlist_retention(now=d.ended_at + grace * 2)["destroyed"] == 0
    assert AuditEvent.objects.filter(action="retention.deployment_watchlists").count() == 1


def test_retention_never_touches_a_live_deployment(deployment_in_state, users, settings):
    make_entry(users.contributor, users.manager)
    d = deployment_in_state("live")
    services.watchlist_retention(now=d.ends_at + timedelta(days=30))
    assert DeploymentWatchlist.objects.get(deployment=d).encodings is not None


def test_cancelling_discards_the_snapshot_with_a_receipt(deployment_in_state, users):
    make_entry(users.contributor, users.manager)
    d = deployment_in_state("authorised")
    services.deployment_cancel(deployment=d, by=users.command, reason="event called off")
    assert not DeploymentWatchlist.objects.filter(deployment=d).exists()
    receipt = AuditEvent.objects.get(action="deployment.watchlist_discarded")
    assert receipt.details == {"rows": 1, "entries": 1, "why": "cancelled"}


def test_the_beat_task_runs_retention(deployment_in_state, users, settings):
    from deployments.tasks import watchlist_retention

    settings.LFR_WATCHLIST_GRACE_HOURS = 0
    make_entry(users.contributor, users.manager)
    d = deployment_in_state("live", starts_at=timezone.now() - timedelta(hours=1))
    services.deployment_stop(deployment=d, by=users.command, reason="done")
    assert watchlist_retention()["deployment_ids"] == [d.pk]
