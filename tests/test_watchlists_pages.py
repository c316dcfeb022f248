"""Pages: list, queue, entry, submit with live check, subject history, image view."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.models import AuditEvent
from tests import fixtures_watchlists as fx
from tests.helpers import faces
from watchlists.models import ReferenceImage, Subject, WatchlistEntry


def page_urls(entry):
    image = entry.images.get()
    return [
        "/watchlists/",
        "/watchlists/queue/",
        "/watchlists/submit/",
        f"/watchlists/entries/{entry.pk}/",
        f"/watchlists/subjects/{entry.subject_id}/",
        f"/watchlists/images/{image.pk}/?purpose=just+looking",
    ]


def post_urls(entry):
    return [
        f"/watchlists/entries/{entry.pk}/{a}/" for a in ("approve", "reject", "withdraw", "expire")
    ] + ["/watchlists/check/", "/watchlists/submit/"]


def test_it_lists_entries_with_filters(users, login):
    fx.submit_entry(users.contributor, "S-1")
    fx.approved_entry(users, "S-2", category="missing", result=fx.biden())
    client = login(users.manager)
    r = client.get("/watchlists/", {"state": "approved", "purpose": "Weekly review OP-1"})
    assert r.status_code == 200
    assert b"S-2" in r.content and b"S-1" not in r.content


def test_it_shows_the_queue_oldest_first_with_existing_images(users, login):
    first = fx.approved_entry(users, "S-1")
    # Biden under Obama's subject: accepted only with a reason, then flagged in the queue.
    second = fx.submit_entry(
        users.contributor, "S-1", result=fx.biden(), other_person_reason="Checked: same man"
    )
    third = fx.submit_entry(users.contributor, "S-2")
    WatchlistEntry.objects.filter(pk=third.pk).update(submitted_at=timezone.now() - timedelta(1))
    r = login(users.manager).get("/watchlists/queue/", {"purpose": "Daily review OP-1234"})
    assert r.status_code == 200
    items = r.context["items"]
    assert [i["entry"].pk for i in items] == [third.pk, second.pk]
    assert [img.entry_id for img in items[1]["existing"]] == [first.pk]
    html = r.content.decode()
    # Two candidates, S-1's image beside its own second entry, and again beside the third
    # (obama.jpg under S-2 too: the near match under another subject), and the two photos
    # of S-1 that disagree side by side.
    assert html.count('data-testid="ref-image"') == 6
    assert html.count('data-testid="photos-apart"') == 1 and "Checked: same man" in html
    assert "purpose=Daily%20review%20OP-1234" in html
    assert items[1]["distance"] > 0.6 and "probably a different person" in html


def test_it_hides_queue_images_until_a_purpose_is_given(users, login, pending_entry):
    r = login(users.manager).get("/watchlists/queue/")
    assert b'data-testid="ref-image"' not in r.content and b"give a purpose" in r.content


def test_it_approves_from_the_entry_page(users, login, pending_entry):
    client = login(users.manager)
    r = client.post(f"/watchlists/entries/{pending_entry.pk}/approve/", {"reason": "Checked"})
    assert r.status_code == 302
    pending_entry.refresh_from_db()
    assert pending_entry.state == "approved"


def test_it_refuses_self_approval_on_the_page(users, login):
    from core import access
    from tests.helpers import make_user

    both = make_user("both", access.WATCHLIST_MANAGER, access.WATCHLIST_CONTRIBUTOR)
    entry = fx.submit_entry(both)
    client = login(both)
    assert b"another manager must decide" in client.get(f"/watchlists/entries/{entry.pk}/").content
    r = client.post(f"/watchlists/entries/{entry.pk}/approve/", {"reason": "mine"})
    assert r.status_code == 403


def test_it_submits_from_the_form(users, login):
    client = login(users.contributor)
    assert b'id="submit-form"' in client.get("/watchlists/submit/").content
    upload = SimpleUploadedFile("o.jpg", faces("examples", "obama.jpg").read_bytes())
    r = client.post(
        "/watchlists/submit/",
        {
            "image": upload,
            "subject_reference": "S-9",
            "display_name": "Nine",
            "category": "suspect",
            "legal_basis": "PACE s.64A",
            "case_reference": "OP-9",
            "provenance": "Custody",
            **fx.form_dates(),
        },
    )
    assert r.status_code == 302
    entry = WatchlistEntry.objects.get()
    assert r["Location"] == f"/watchlists/entries/{entry.pk}/" and entry.category == "suspect"


def test_it_shows_the_intake_rule_on_the_form(users, login):
    client = login(users.contributor)
    upload = SimpleUploadedFile("t.jpg", faces("examples", "two_people.jpg").read_bytes())
    r = client.post(
        "/watchlists/submit/",
        {
            "image": upload,
            "subject_reference": "S-9",
            "display_name": "Nine",
            "category": "suspect",
            "legal_basis": "PACE",
            "case_reference": "OP-9",
            "provenance": "Custody",
            **fx.form_dates(),
        },
    )
    assert r.status_code == 400
    assert b"Refused (multiple_faces)" in r.content
    assert not Subject.objects.exists()


def test_it_gives_a_live_verdict_without_storing(users, login):
    client = login(users.contributor)
    upload = SimpleUploadedFile(
        "p.jpg", faces("tests", "test_images", "obama_partial_face2.jpg").read_bytes()
    )
    r = client.post("/watchlists/check/", {"image": upload})
    assert r.json()["ok"] is False and r.json()["rule"] == "partial_face"
    assert not ReferenceImage.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="watchlist.entry").exists()


def test_it_shows_subject_history_and_audits_the_view_with_its_purpose(users, login):
    entry = fx.approved_entry(users)
    r = login(users.oversight).get(
        f"/watchlists/subjects/{entry.subject_id}/", {"purpose": "annual review OP-77"}
    )
    assert r.status_code == 200
    assert b"watchlist.entry_approve" in r.content and b"watchlist.entry_submit" in r.content
    event = AuditEvent.objects.get(action="watchlist.subject_view", actor_username="ovs")
    assert event.purpose == "annual review OP-77"


def test_it_asks_for_a_purpose_before_showing_subject_history(users, login):
    entry = fx.approved_entry(users)
    r = login(users.oversight).get(f"/watchlists/subjects/{entry.subject_id}/")
    assert r.status_code == 200
    assert b"purpose-form" in r.content and b"watchlist.entry_approve" not in r.content
    assert not AuditEvent.objects.filter(action="watchlist.subject_view").exists()


def test_it_hides_subject_history_from_officers(users, login):
    entry = fx.approved_entry(users)
    r = login(users.officer).get(
        f"/watchlists/subjects/{entry.subject_id}/", {"purpose": "curious about it"}
    )
    assert r.status_code == 404


def test_it_serves_page_images_with_purpose_and_no_store(users, login, pending_entry):
    image = pending_entry.images.get()
    client = login(users.manager)
    assert client.get(f"/watchlists/images/{image.pk}/").status_code == 400
    r = client.get(f"/watchlists/images/{image.pk}/", {"purpose": "Review OP-1234"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    assert AuditEvent.objects.get(action="watchlist.image_view").purpose == "Review OP-1234"


@pytest.mark.parametrize("who", ["officer", "nobody"])
def test_it_answers_404_on_every_page_to_officers_and_outsiders(users, login, pending_entry, who):
    client = login(getattr(users, who))
    for url in page_urls(pending_entry):
        assert client.get(url).status_code == 404, url
    for url in post_urls(pending_entry):
        assert client.post(url, {"reason": "x"}).status_code == 404, url
    assert not AuditEvent.objects.filter(action="watchlist.image_view").exists()


def test_it_lets_oversight_read_every_page_but_change_nothing(users, login, pending_entry):
    client = login(users.oversight)
    for url in page_urls(pending_entry):
        if "submit" in url:
            assert client.get(url).status_code == 403
        else:
            assert client.get(url).status_code == 200, url
    for url in post_urls(pending_entry):
        assert client.post(url, {"reason": "x"}).status_code == 403, url
    pending_entry.refresh_from_db()
    assert pending_entry.state == "pending"


def test_it_shows_the_nav_links_by_role(users, login):
    html = login(users.manager).get("/watchlists/").content.decode()
    assert 'href="/watchlists/queue/"' in html and 'href="/watchlists/submit/"' not in html
    html = login(users.contributor).get("/watchlists/").content.decode()
    assert 'href="/watchlists/submit/"' in html
