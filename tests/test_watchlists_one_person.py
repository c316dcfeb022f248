"""One person per subject: a photo far from the subject's other photos is refused at
import, needs a recorded reason at submission, and is shown to the manager beside them."""

import shutil

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.fixtures_watchlists import approved_entry, openface, submit_entry
from tests.helpers import data_path, sign_in
from watchlists import selectors
from watchlists import services as watchlists
from watchlists.models import WatchlistEntry
from watchlists.services import bulk

EXAMPLES = data_path("faces", "openface", "images", "examples")
FIELDS = {
    "category": "wanted",
    "legal_basis": "Warrants issued by the magistrates' court",
    "provenance": "Custody photographs",
    "case_reference": "OP-ONE",
}


def folder_import(tmp_path, by, files: dict[str, list[str]]):
    for subject, names in files.items():
        (tmp_path / subject).mkdir()
        for name in names:
            shutil.copy(EXAMPLES / name, tmp_path / subject / name)
    items = bulk.items_from_folders(tmp_path)
    totals = bulk.watchlist_import(by=by, items=items, defaults=FIELDS, source="folder")
    return totals, {i.name: (i.outcome, i.detail) for i in items}


def test_it_refuses_a_bulk_folder_that_holds_two_people(users, tmp_path):
    totals, rows = folder_import(tmp_path, users.contributor, {"s-1": ["adams.jpg", "carell.jpg"]})
    assert not WatchlistEntry.objects.exists()
    assert totals["added"] == 0 and totals["refused"] == 2
    for name in ("adams.jpg", "carell.jpg"):
        outcome, detail = rows[name]
        assert outcome == "refused" and "different people" in detail


def test_it_imports_a_folder_of_one_person_as_one_entry(users, tmp_path):
    totals, rows = folder_import(
        tmp_path, users.contributor, {"s-1": ["clapton-1.jpg", "clapton-2.jpg"]}
    )
    assert totals["added"] == 2 and WatchlistEntry.objects.get().images.count() == 2


def test_it_refuses_at_import_a_photo_apart_from_the_held_ones(users, tmp_path):
    submit_entry(users.contributor, "s-1", result=openface("adams.jpg"))
    totals, rows = folder_import(tmp_path, users.contributor, {"s-1": ["carell.jpg"]})
    assert rows["carell.jpg"][0] == "refused"
    assert "different people: 0.98 from held image #" in rows["carell.jpg"][1]
    assert WatchlistEntry.objects.count() == 1


def test_it_refuses_two_photos_of_another_person_that_outnumber_the_held_one(users, tmp_path):
    submit_entry(users.contributor, "s-1", result=openface("adams.jpg"))
    totals, rows = folder_import(
        tmp_path, users.contributor, {"s-1": ["lennon-1.jpg", "lennon-2.jpg"]}
    )
    assert [rows[n][0] for n in ("lennon-1.jpg", "lennon-2.jpg")] == ["refused", "refused"]
    assert WatchlistEntry.objects.count() == 1


def test_it_refuses_a_second_persons_photo_at_submission_without_a_reason(users):
    submit_entry(users.contributor, "s-1", result=openface("adams.jpg"))
    with pytest.raises(ValidationError, match="different people.*0.98 from held image") as exc:
        submit_entry(users.contributor, "s-1", result=openface("carell.jpg"))
    assert exc.value.message_dict.keys() == {"other_person_reason"}
    assert WatchlistEntry.objects.count() == 1


def test_it_refuses_two_people_in_one_submission_without_a_reason(users):
    with pytest.raises(ValidationError, match="photo 2 is 0.98 from photo 1"):
        services_submit(users.contributor, [openface("adams.jpg"), openface("carell.jpg")])


def services_submit(by, images, **extra):
    from watchlists import services

    return services.entry_submit(
        by=by,
        subject=services.SubjectInput(reference="s-2", display_name="Two"),
        category="wanted",
        legal_basis="Warrant",
        case_reference="OP-2",
        provenance="Custody",
        images=images,
        **extra,
    )


def test_it_shows_the_manager_both_photos_side_by_side_with_the_reason(users, client):
    submit_entry(users.contributor, "s-1", result=openface("adams.jpg"))
    entry = submit_entry(
        users.contributor,
        "s-1",
        result=openface("carell.jpg"),
        other_person_reason="Custody photo from 1998, before surgery",
    )
    assert entry.other_person_reason == "Custody photo from 1998, before surgery"
    sign_in(client, users.manager)
    page = client.get(reverse("watchlists:queue"), {"purpose": "Review of pending entries"})
    html = page.content.decode()
    assert html.count('data-testid="photos-apart"') == 2  # on both entries of the subject
    carell, adams = entry.images.get(), WatchlistEntry.objects.first().images.get()
    assert f'data-image="{carell.pk}" data-other="{adams.pk}"' in html
    assert f"Reference image {carell.pk}" in html and f"Reference image {adams.pk}" in html
    assert "before surgery" in html


def test_it_flags_nothing_for_photos_of_one_person(users, client):
    submit_entry(users.contributor, "s-1", result=openface("clapton-1.jpg"))
    submit_entry(users.contributor, "s-1", result=openface("clapton-2.jpg"))
    sign_in(client, users.manager)
    page = client.get(reverse("watchlists:queue"), {"purpose": "Review of pending entries"})
    assert 'data-testid="photos-apart"' not in page.content.decode()


def test_it_freezes_a_subject_without_the_photo_that_stands_apart(users):
    one = approved_entry(users, "s-1", result=openface("clapton-1.jpg"))
    two = approved_entry(users, "s-1", result=openface("clapton-2.jpg"))
    odd = submit_entry(
        users.contributor, "s-1", result=openface("carell.jpg"), other_person_reason="Alias"
    )
    watchlists.entry_decide(entry_id=odd.pk, by=users.manager, approve=True, reason="Seen")
    rows = selectors.snapshot_candidates(
        categories=["wanted"], include_minors=False, at=timezone.now()
    )
    frozen = {row.entry_id: len(row.encodings) for row in rows}
    assert frozen == {one.pk: 1, two.pk: 1, odd.pk: 0}  # Carell's face cannot alert as s-1


def test_it_refuses_two_people_over_the_api_until_a_reason_is_given(users, login):
    client = login(users.contributor)
    fields = {
        "subject_reference": "S-7",
        "display_name": "Seven",
        "category": "wanted",
        "legal_basis": "Warrant",
        "case_reference": "OP-7",
        "provenance": "Custody",
        "taken_on": "2026-06-01",
    }

    def post(**extra):
        photos = [
            SimpleUploadedFile(n, (EXAMPLES / n).read_bytes(), content_type="image/jpeg")
            for n in ("adams.jpg", "carell.jpg")
        ]
        body = {**fields, **extra, "image": photos[0], "more_images": [photos[1]]}
        return client.post("/api/v1/watchlist/entries/", body)

    refused = post()
    assert refused.status_code == 400
    assert list(refused.json()["fields"]) == ["other_person_reason"]
    assert not WatchlistEntry.objects.exists()
    accepted = post(other_person_reason="Alias photographs from two custody records")
    assert accepted.status_code == 201, accepted.content
    assert WatchlistEntry.objects.get().other_person_reason.startswith("Alias")


def test_it_needs_a_reason_to_approve_photos_apart_held_without_one(users, client):
    submit_entry(users.contributor, "s-1", result=openface("adams.jpg"))
    odd = submit_entry(
        users.contributor, "s-1", result=openface("carell.jpg"), other_person_reason="x"
    )
    WatchlistEntry.objects.filter(pk=odd.pk).update(other_person_reason="")  # held before
    sign_in(client, users.manager)
    page = client.get(reverse("watchlists:queue"), {"purpose": "Review of pending entries"})
    assert page.content.decode().count('name="other_person_reason"') == 2
    with pytest.raises(ValidationError, match="farther apart than the same-person bound"):
        watchlists.entry_decide(entry_id=odd.pk, by=users.manager, approve=True, reason="ok")
    watchlists.entry_decide(
        entry_id=odd.pk,
        by=users.manager,
        approve=True,
        reason="ok",
        other_person_reason="Same man: custody record cross-checked",
    )
    odd.refresh_from_db()
    assert odd.state == "approved" and odd.other_person_reason.startswith("Same man")
