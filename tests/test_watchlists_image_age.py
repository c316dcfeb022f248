"""Issue 16.8: each reference image records when it was taken; the review queue and the
authorisation screen show its age and flag images past LFR_IMAGE_MAX_AGE_DAYS (APP: "the
most recent suitable image"), and images of unknown age."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from core.models import AuditEvent
from tests import fixtures_watchlists as fx
from tests.fixtures_deployments import make_entry
from tests.helpers import data_path, faces
from watchlists.models import ReferenceImage, WatchlistEntry, image_is_stale

PURPOSE = "Review for case OP-7781"


def _days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)


def test_it_flags_images_past_the_age_and_of_unknown_age(settings):
    settings.LFR_IMAGE_MAX_AGE_DAYS = 730
    today = date(2026, 12, 2)
    assert not image_is_stale(date(2025, 12, 2), today)
    assert not image_is_stale(today - timedelta(days=730), today)
    assert image_is_stale(today - timedelta(days=731), today)
    assert image_is_stale(None, today)  # unknown cannot be shown to be recent


def test_it_records_when_each_image_was_taken(users):
    entry = fx.submit_entry(users.contributor, taken_on=_days_ago(40))
    assert [i.taken_on for i in entry.images.all()] == [_days_ago(40)]
    event = AuditEvent.objects.get(action="watchlist.entry_submit")
    assert event.details["taken_on"] == _days_ago(40).isoformat()


def test_it_refuses_a_date_taken_in_the_future(users):
    with pytest.raises(ValidationError, match="in the future"):
        fx.submit_entry(users.contributor, taken_on=_days_ago(-1))
    assert not WatchlistEntry.objects.exists()


def test_it_refuses_a_date_taken_before_the_subject_was_born(users):
    with pytest.raises(ValidationError, match="before the subject was born"):
        fx.submit_entry(users.contributor, dob=date(2000, 1, 1), taken_on=date(1999, 5, 1))


def test_it_requires_the_date_taken_on_the_form(users, login):
    post = fx.form_post()
    del post["taken_on"]
    r = login(users.contributor).post("/watchlists/submit/", post)
    assert r.status_code == 400 and b'data-testid="error-taken_on"' in r.content
    assert not WatchlistEntry.objects.exists()


def test_it_requires_the_date_taken_on_the_api_and_reports_the_age(users, login):
    client = login(users.contributor)
    fields = {
        "subject_reference": "S-100",
        "display_name": "Test Subject",
        "category": "wanted",
        "legal_basis": "Warrant",
        "case_reference": "OP-77",
        "provenance": "Custody photograph",
    }
    image = faces("examples", "obama.jpg").read_bytes()
    r = client.post(
        "/api/v1/watchlist/entries/",
        {**fields, "image": SimpleUploadedFile("o.jpg", image, content_type="image/jpeg")},
    )
    assert r.status_code == 400 and "taken_on" in r.json()
    old = _days_ago(1000).isoformat()
    r = client.post(
        "/api/v1/watchlist/entries/",
        {
            **fields,
            "taken_on": old,
            "image": SimpleUploadedFile("o.jpg", image, content_type="image/jpeg"),
        },
    )
    assert r.status_code == 201, r.content
    (img,) = r.json()["images"]
    assert img["taken_on"] == old and img["age_days"] == 1000 and img["stale"] is True


def _queue(client):
    return client.get("/watchlists/queue/", {"purpose": PURPOSE}).content.decode()


def test_it_shows_the_age_on_the_review_queue_and_flags_old_images(users, login):
    fresh = fx.submit_entry(users.contributor, "S-1", taken_on=_days_ago(100))
    old = fx.submit_entry(users.contributor, "S-2", result=fx.biden(), taken_on=_days_ago(1100))
    html = _queue(login(users.manager))
    fresh_img, old_img = fresh.images.get(), old.images.get()
    assert f'data-image="{fresh_img.pk}">taken {_days_ago(100):%Y-%m-%d} (3 months ago)' in html
    assert f'data-image="{old_img.pk}">taken {_days_ago(1100):%Y-%m-%d} (3 years ' in html
    section = html.split(f'data-entry="{old.pk}"')[1]
    assert 'data-testid="image-stale">older than 2 years' in section
    assert (
        'data-testid="image-stale"'
        not in html.split(f'data-entry="{fresh.pk}"')[1].split('data-testid="queue-item"')[0]
    )


def test_it_flags_an_image_of_unknown_age_on_the_review_queue(users, login):
    entry = fx.submit_entry(users.contributor, "S-1")  # the services' callers may omit it
    html = _queue(login(users.manager))
    assert entry.images.get().taken_on is None
    assert "date taken unknown" in html


def test_it_follows_the_configured_age(users, login, settings):
    settings.LFR_IMAGE_MAX_AGE_DAYS = 45
    fx.submit_entry(users.contributor, "S-1", taken_on=_days_ago(100))
    assert 'data-testid="image-stale">older than 45 days' in _queue(login(users.manager))


def _dated(entry, *taken_on):
    for image, day in zip(entry.images.order_by("pk"), taken_on, strict=True):
        ReferenceImage.objects.filter(pk=image.pk).update(taken_on=day)
    return entry


def test_it_flags_entries_with_no_recent_image_on_the_authorisation_screen(
    users, login, deployment_in_state
):
    from tests.fixtures_deployments import random_encoding

    recent = _dated(make_entry(users.contributor, users.manager), _days_ago(30))
    old = _dated(make_entry(users.contributor, users.manager), _days_ago(900))
    unknown = make_entry(users.contributor, users.manager)
    # One recent image is enough: the most recent suitable image is what counts.
    mixed = make_entry(
        users.contributor, users.manager, encodings=[random_encoding(1), random_encoding(2)]
    )
    _dated(mixed, _days_ago(2000), _days_ago(10))
    d = deployment_in_state("submitted")
    html = login(users.authoriser).get(f"/deployments/{d.pk}/authorise/").content.decode()
    assert 'data-testid="stale-count">2 of 4 entries' in html
    flagged = {
        int(p.split('"')[0]) for p in html.split('data-testid="stale-entry" data-entry="')[1:]
    }
    assert flagged == {old.pk, unknown.pk}
    assert recent.pk not in flagged and mixed.pk not in flagged
    assert f"{_days_ago(900):%Y-%m-%d}" in html and ">unknown</span>" in html
    assert old.subject.reference not in html  # ids and dates only: no intelligence


def test_it_says_when_every_entry_has_a_recent_image(users, login, deployment_in_state):
    _dated(make_entry(users.contributor, users.manager), _days_ago(30))
    d = deployment_in_state("submitted")
    html = login(users.authoriser).get(f"/deployments/{d.pk}/authorise/").content.decode()
    assert 'data-testid="stale-none"' in html


@pytest.mark.parametrize("taken_on", ["2025-03-01", None])
def test_it_imports_with_a_date_taken_or_records_it_unknown(users, taken_on):
    train = data_path("faces", "face_recognition", "examples", "knn_examples", "train")
    args = [str(train), "--as", users.contributor.username, "--category", "wanted"]
    args += ["--legal-basis", "Warrants", "--provenance", "Custody photographs"]
    if taken_on:
        args += ["--taken-on", taken_on]
    call_command("import_watchlist", *args, stdout=StringIO(), stderr=StringIO(), verbosity=0)
    dates = set(ReferenceImage.objects.values_list("taken_on", flat=True))
    assert dates == {date.fromisoformat(taken_on) if taken_on else None}


def test_the_import_page_job_records_the_date_taken(users):
    from tests.test_watchlists_bulk_import import FIELDS, train_zip
    from watchlists.services import bulk

    job = bulk.import_job_create(
        by=users.contributor,
        archive=train_zip(),
        source_name="train.zip",
        fields={**FIELDS, "taken_on": "2025-03-01"},
    )
    assert bulk.import_job_run(job_id=job.pk) == "done"
    assert set(ReferenceImage.objects.values_list("taken_on", flat=True)) == {date(2025, 3, 1)}
