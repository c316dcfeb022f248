"""One person under two subject references: caught at intake, shown, and gated at approval."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEvent
from tests import fixtures_watchlists as fx
from tests.helpers import data_path
from watchlists import selectors, services
from watchlists.models import WatchlistEntry

State = WatchlistEntry.State


API_FIELDS = {
    "subject_reference": "S-2",
    "display_name": "Second reference",
    "category": "wanted",
    "legal_basis": "Warrant issued by the magistrates' court",
    "case_reference": "OP-78",
    "provenance": "Custody photograph",
    "taken_on": "2026-06-01",
}


def clapton_bytes(n: int) -> bytes:
    return data_path("faces", "openface", "images", "examples", f"clapton-{n}.jpg").read_bytes()


def clapton(n: int = 1):
    """clapton-1.jpg / clapton-2.jpg from the openface sample set, inspected once."""
    return fx.openface(f"clapton-{n}.jpg")


@pytest.fixture
def held(users):
    """clapton-1.jpg approved under S-1."""
    return fx.approved_entry(users, "S-1", result=clapton(1))


def test_it_refuses_approval_without_a_reason_for_the_same_photo_under_another_subject(users, held):
    # The reproduction: clapton-1.jpg proposed again as a new subject.
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(1))
    with pytest.raises(ValidationError, match="S-1"):
        services.entry_decide(entry_id=second.pk, by=users.manager, approve=True, reason="ok")
    second.refresh_from_db()
    assert second.state == State.PENDING


def test_it_shows_the_manager_the_other_subject_in_the_queue(users, held, login):
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(1))
    page = login(users.manager).get("/watchlists/queue/", {"purpose": "Daily review"})
    page = page.content.decode()
    item = page[page.index(f'data-entry="{second.pk}"') :]
    item = item[: item.index("</section>")]
    assert "S-1" in item and f"Entry {held.pk}" in item


# --- intake: what the contributor sees ---------------------------------------------------


def test_it_shows_the_contributor_the_other_subject_at_the_live_check(users, held):
    matches = services.image_check_near(by=users.contributor, result=clapton(1))
    assert [(m.subject_reference, m.entry_id, m.distance) for m in matches] == [
        ("S-1", held.pk, 0.0)
    ]
    event = AuditEvent.objects.get(action="watchlist.near_match_view")
    assert event.actor_id == users.contributor.pk and event.details["context"] == "check"
    assert event.details["matches"][0]["subject"] == "S-1"
    assert "encoding" not in str(event.details)


def test_it_does_not_report_the_subject_being_proposed_at_the_live_check(users, held):
    assert (
        services.image_check_near(by=users.contributor, result=clapton(1), subject_reference="S-1")
        == []
    )
    assert not AuditEvent.objects.filter(action="watchlist.near_match_view").exists()


def test_it_catches_another_photo_of_the_same_person(users, held):
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(2))
    [match] = services.entry_near_matches(entry=second, by=users.contributor)
    assert match.subject_reference == "S-1" and 0.2 < match.distance <= selectors.near_distance()


def test_it_does_not_flag_a_different_person(users, held):
    other = fx.submit_entry(users.contributor, "S-2", result=fx.obama())
    assert services.entry_near_matches(entry=other, by=users.manager) == []
    assert not AuditEvent.objects.filter(action="watchlist.near_match_view").exists()


def test_it_compares_with_pending_images_too(users):
    first = fx.submit_entry(users.contributor, "S-1", result=clapton(1))
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(1))
    assert [m.entry_id for m in selectors.entry_near_matches(second)] == [first.pk]
    assert [m.entry_id for m in selectors.entry_near_matches(first)] == [second.pk]


def test_it_ignores_images_no_longer_held(users, held):
    services.entry_end(entry_id=held.pk, by=users.manager, withdraw=True, reason="Case closed")
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(1))
    assert selectors.entry_near_matches(second) == []


def test_it_records_the_near_match_in_the_submission_audit(users, held):
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(1))
    event = AuditEvent.objects.get(action="watchlist.entry_submit", object_id=str(second.pk))
    assert [m["subject"] for m in event.details["near_matches"]] == ["S-1"]


def test_it_hides_near_matches_from_a_role_that_may_not_read_watchlists(users, held):
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(1))
    assert services.entry_near_matches(entry=second, by=users.officer) == []
    assert not AuditEvent.objects.filter(action="watchlist.near_match_view").exists()


def test_it_audits_the_managers_view_of_the_near_match(users, held):
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(1))
    services.entry_near_matches(entry=second, by=users.manager, context="queue")
    event = AuditEvent.objects.get(action="watchlist.near_match_view")
    assert event.actor_id == users.manager.pk and event.object_id == str(second.pk)
    assert event.details["matches"][0]["entry"] == held.pk


# --- review: the manager's decision ------------------------------------------------------


@pytest.fixture
def second(users, held):
    return fx.submit_entry(users.contributor, "S-2", result=clapton(1))


def approvals(entry):
    return AuditEvent.objects.filter(action="watchlist.entry_approve", object_id=str(entry.pk))


def test_it_refuses_approval_without_a_duplicate_reason(users, second):
    with pytest.raises(services.DuplicateError) as info:
        services.entry_decide(
            entry_id=second.pk, by=users.manager, approve=True, reason="ok", duplicate_reason=" "
        )
    assert [m.subject_reference for m in info.value.matches] == ["S-1"]
    assert not approvals(second).exists()
    # The refusal names S-1 to the manager: that read is audited.
    shown = AuditEvent.objects.get(action="watchlist.near_match_view")
    assert shown.details["context"] == "approval_refused" and shown.actor_id == users.manager.pk


def test_it_approves_with_a_duplicate_reason_and_audits_it(users, held, second):
    entry = services.entry_decide(
        entry_id=second.pk,
        by=users.manager,
        approve=True,
        reason="Warrant checked",
        duplicate_reason="Alias: S-2 is the same man under a second warrant",
    )
    assert entry.state == State.APPROVED and "duplicate: Alias" in entry.decision_reason
    event = approvals(second).get()
    assert event.details["duplicate_reason"].startswith("Alias")
    assert [(m["subject"], m["entry"]) for m in event.details["near_matches"]] == [("S-1", held.pk)]


def test_it_rejects_a_duplicate_without_a_duplicate_reason(users, second):
    entry = services.entry_decide(
        entry_id=second.pk, by=users.manager, approve=False, reason="Same man as S-1"
    )
    assert entry.state == State.REJECTED


def test_it_needs_no_duplicate_reason_once_the_other_entry_is_gone(users, held, second):
    services.entry_end(entry_id=held.pk, by=users.manager, withdraw=True, reason="Wrong man")
    entry = services.entry_decide(entry_id=second.pk, by=users.manager, approve=True, reason="ok")
    assert entry.state == State.APPROVED
    assert "duplicate_reason" not in approvals(second).get().details


# --- the API path ------------------------------------------------------------------------


def test_it_reports_the_near_match_in_the_api_check(users, held, login):
    upload = SimpleUploadedFile("c.jpg", clapton_bytes(1), content_type="image/jpeg")
    r = login(users.contributor).post(
        "/api/v1/watchlist/check/", {"image": upload, "subject_reference": "S-2"}
    )
    assert r.status_code == 200 and r.json()["ok"] is True
    assert [(m["subject_reference"], m["entry_id"]) for m in r.json()["near_matches"]] == [
        ("S-1", held.pk)
    ]


def test_it_reports_the_near_match_in_the_api_submission(users, held, login):
    upload = SimpleUploadedFile("c.jpg", clapton_bytes(1), content_type="image/jpeg")
    r = login(users.contributor).post("/api/v1/watchlist/entries/", {**API_FIELDS, "image": upload})
    assert r.status_code == 201, r.content
    assert [m["subject_reference"] for m in r.json()["near_matches"]] == ["S-1"]


def test_it_refuses_api_approval_without_a_duplicate_reason(users, second, login):
    client = login(users.manager)
    url = f"/api/v1/watchlist/entries/{second.pk}/approve/"
    r = client.post(url, {"reason": "ok"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["rule"] == "duplicate"
    assert r.json()["near_matches"][0]["subject_reference"] == "S-1"
    r = client.post(
        url, {"reason": "ok", "duplicate_reason": "Alias"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["state"] == "approved"
    assert approvals(second).get().details["duplicate_reason"] == "Alias"


def test_it_shows_the_near_match_in_the_api_entry(users, held, second, login):
    r = login(users.oversight).get(f"/api/v1/watchlist/entries/{second.pk}/")
    assert [m["entry_id"] for m in r.json()["near_matches"]] == [held.pk]


# --- pages --------------------------------------------------------------------------------


def test_it_shows_both_references_on_the_entry_page(users, held, second, login):
    r = login(users.manager).get(f"/watchlists/entries/{second.pk}/")
    assert r.status_code == 200
    assert b'data-testid="near-match"' in r.content and b"S-1" in r.content
    assert b'name="duplicate_reason"' in r.content


def test_it_gates_page_approval_on_the_duplicate_reason(users, second, login):
    client = login(users.manager)
    url = f"/watchlists/entries/{second.pk}/approve/"
    r = client.post(url, {"reason": "ok"}, follow=True)
    assert b"already held under another subject" in r.content
    second.refresh_from_db()
    assert second.state == State.PENDING
    client.post(url, {"reason": "ok", "duplicate_reason": "Alias"})
    second.refresh_from_db()
    assert second.state == State.APPROVED


def test_it_warns_in_the_page_live_check(users, held, login):
    upload = SimpleUploadedFile("c.jpg", clapton_bytes(1), content_type="image/jpeg")
    r = login(users.contributor).post("/watchlists/check/", {"image": upload})
    assert r.json()["near_matches"][0]["subject_reference"] == "S-1"


def test_it_shows_the_contributor_the_near_match_on_the_submit_result_page(users, held, login):
    upload = SimpleUploadedFile("c.jpg", clapton_bytes(1), content_type="image/jpeg")
    r = login(users.contributor).post(
        "/watchlists/submit/", {**API_FIELDS, **fx.form_dates(), "image": upload}, follow=True
    )
    assert r.redirect_chain and r.redirect_chain[-1][0].startswith("/watchlists/entries/")
    near = r.content.decode().split('data-testid="near-matches"')[1]
    assert "S-1" in near and f"Entry {held.pk}" in near
    assert AuditEvent.objects.filter(
        action="watchlist.near_match_view", actor_id=users.contributor.pk
    ).exists()
