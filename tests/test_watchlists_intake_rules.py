"""Intake done right: dates on every entry, one name per subject, several photos each."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests import fixtures_watchlists as fx
from tests.helpers import faces
from watchlists.models import ReferenceImage, WatchlistEntry


def _openface(name):
    from tests.helpers import data_path

    data = data_path("faces", "openface", "images", "examples", name).read_bytes()
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


FIELDS = {
    "category": "wanted",
    "legal_basis": "Warrant issued by the magistrates' court",
    "case_reference": "OP-77",
    "provenance": "Custody photograph",
}


def test_it_gives_every_entry_a_review_date_and_an_expiry(users, settings):
    settings.LFR_ENTRY_REVIEW_DAYS, settings.LFR_ENTRY_EXPIRY_DAYS = 30, 200
    entry = fx.submit_entry(users.contributor)
    today = timezone.localdate()
    assert entry.review_due == today + timedelta(days=30)
    assert timezone.localdate(entry.expires_at) == today + timedelta(days=200)


def test_it_refuses_a_review_date_after_the_expiry(users):
    with pytest.raises(ValidationError, match="review date must come before the expiry"):
        fx.submit_entry(
            users.contributor,
            expires_at=timezone.now() + timedelta(days=10),
            review_due=timezone.localdate() + timedelta(days=20),
        )


def test_it_refuses_another_name_for_a_held_subject(users):
    from watchlists import services

    fx.submit_entry(users.contributor, "S-1")  # held as "Subject S-1"
    with pytest.raises(ValidationError, match="already held as \u201cSubject S-1\u201d"):
        services.entry_submit(
            by=users.contributor,
            subject=services.SubjectInput(reference="S-1", display_name="Somebody Else"),
            images=[fx.openface("clapton-1.jpg")],
            **FIELDS,
        )


def test_it_adds_a_photo_to_a_held_subject_when_the_name_is_blank_or_the_same(users):
    from watchlists import services

    first = fx.submit_entry(users.contributor, "S-1")
    # Other photos of the same person (a different person's would need a reason).
    photos = (
        ("examples", "knn_examples", "train", "obama", "obama2.jpg"),
        ("tests", "test_images", "obama3.jpg"),
    )
    for name, image in zip(("", "subject s-1"), photos, strict=True):
        entry = services.entry_submit(
            by=users.contributor,
            subject=services.SubjectInput(reference="S-1", display_name=name),
            images=[fx.inspected(*image)],
            **FIELDS,
        )
        assert entry.subject_id == first.subject_id and entry.state == "pending"


def test_the_form_takes_several_photos_and_marks_what_is_required(users, login):
    client = login(users.contributor)
    page = client.get("/watchlists/submit/").content.decode()
    assert 'name="more_images"' in page and "multiple" in page
    assert page.count('class="required"') >= 8  # the marked fields, and the legend
    assert 'name="review_due" value="' in page and 'name="expires_at" value="' in page
    response = client.post(
        "/watchlists/submit/",
        {
            **FIELDS,
            **fx.form_dates(),
            "subject_reference": "S-5",
            "display_name": "Five",
            "image": _openface("clapton-1.jpg"),
            "more_images": [_openface("clapton-2.jpg")],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = WatchlistEntry.objects.get()
    assert ReferenceImage.objects.filter(entry=entry).count() == 2


def test_the_api_takes_several_photos(users, login):
    response = login(users.contributor).post(
        "/api/v1/watchlist/entries/",
        {
            **FIELDS,
            "subject_reference": "S-6",
            "taken_on": "2026-06-01",
            "display_name": "Six",
            "image": _openface("lennon-1.jpg"),
            "more_images": [_openface("lennon-2.jpg")],
        },
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["images"]) == 2
    assert response.json()["review_due"] and response.json()["expires_at"]


def test_a_bad_extra_photo_is_refused_by_name_and_nothing_is_saved(users, login):
    response = login(users.contributor).post(
        "/api/v1/watchlist/entries/",
        {
            **FIELDS,
            "subject_reference": "S-7",
            "taken_on": "2026-06-01",
            "display_name": "Seven",
            "image": _openface("lennon-1.jpg"),
            "more_images": [
                SimpleUploadedFile("two.jpg", faces("examples", "two_people.jpg").read_bytes())
            ],
        },
    )
    assert response.status_code == 400 and "two.jpg" in response.json()["detail"]
    assert not WatchlistEntry.objects.exists()


def test_reviewers_see_the_age_and_the_minor_flag(users, login):
    from datetime import date

    young = date.today().replace(year=date.today().year - 16)
    entry = fx.submit_entry(users.contributor, "S-8", dob=young)
    fx.submit_entry(users.contributor, "S-9", result=fx.biden())
    queue = login(users.manager).get("/watchlists/queue/", {"purpose": "Review of new entries"})
    html = queue.content.decode()
    assert f"born {young.isoformat()} (age 16)" in html and "under 18" in html
    assert "date of birth not recorded" in html
    assert entry.subject.age == 16
