"""Submission, two-person decisions, the approve/reject race, retention and snapshots."""

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from core import access
from core.models import AuditEvent
from recognition.engine.intake import IntakeError
from tests import fixtures_watchlists as fx
from tests.helpers import make_user
from watchlists import selectors, services
from watchlists.models import ReferenceImage, Subject, WatchlistEntry

State = WatchlistEntry.State


def test_it_submits_a_pending_entry_with_its_image_and_encoding(users):
    entry = fx.submit_entry(users.contributor)
    assert entry.state == State.PENDING and entry.submitted_by == users.contributor
    image = entry.images.get()
    assert len(bytes(image.encoding)) == 512 and bytes(image.jpeg)[:3] == b"\xff\xd8\xff"
    event = AuditEvent.objects.get(action="watchlist.entry_submit")
    assert event.details["images"] == 1 and "encoding" not in str(event.details)


def test_it_refuses_a_category_outside_the_fixed_list(users):
    with pytest.raises(ValidationError, match="no catch-all"):
        fx.submit_entry(users.contributor, category="other")
    assert not Subject.objects.exists()


def test_it_refuses_the_same_face_twice_on_a_subject_and_saves_nothing(users):
    fx.submit_entry(users.contributor)
    with pytest.raises(IntakeError) as info:
        fx.submit_entry(users.contributor)
    assert info.value.rule == "duplicate"
    assert WatchlistEntry.objects.count() == 1 and ReferenceImage.objects.count() == 1


def test_it_lets_the_same_face_be_proposed_for_another_subject(users):
    fx.submit_entry(users.contributor, "S-1")
    fx.submit_entry(users.contributor, "S-2")
    assert WatchlistEntry.objects.count() == 2


def test_it_refuses_submission_by_an_officer(users):
    with pytest.raises(Http404):
        fx.submit_entry(users.officer)


def test_it_refuses_submission_by_oversight(users):
    with pytest.raises(PermissionDenied):
        fx.submit_entry(users.oversight)


# --- two-person rule --------------------------------------------------------------------


def test_it_approves_by_another_manager(users, pending_entry):
    entry = services.entry_decide(
        entry_id=pending_entry.pk, by=users.manager, approve=True, reason="Warrant checked"
    )
    assert entry.state == State.APPROVED and entry.decided_by == users.manager
    event = AuditEvent.objects.get(action="watchlist.entry_approve")
    assert event.details["reason"] == "Warrant checked"


def test_it_rejects_self_approval(users):
    both = make_user("both", access.WATCHLIST_MANAGER, access.WATCHLIST_CONTRIBUTOR)
    entry = fx.submit_entry(both)
    with pytest.raises(PermissionDenied):
        services.entry_decide(entry_id=entry.pk, by=both, approve=True, reason="mine")
    entry.refresh_from_db()
    assert entry.state == State.PENDING
    assert AuditEvent.objects.filter(action="watchlist.approve", outcome="denied").exists()


def test_it_lets_another_manager_approve_what_a_manager_submitted(users):
    entry = fx.submit_entry(
        make_user("both", access.WATCHLIST_MANAGER, access.WATCHLIST_CONTRIBUTOR)
    )
    entry = services.entry_decide(entry_id=entry.pk, by=users.manager2, approve=True, reason="ok")
    assert entry.state == State.APPROVED


def test_it_rejects_approval_by_a_contributor(users, pending_entry):
    with pytest.raises(PermissionDenied):
        services.entry_decide(
            entry_id=pending_entry.pk, by=users.contributor, approve=True, reason="x"
        )


def test_it_requires_a_reason(users, pending_entry):
    with pytest.raises(ValidationError):
        services.entry_decide(
            entry_id=pending_entry.pk, by=users.manager, approve=False, reason="  "
        )


def test_it_refuses_a_second_decision(users, pending_entry):
    services.entry_decide(
        entry_id=pending_entry.pk, by=users.manager, approve=False, reason="Weak basis"
    )
    with pytest.raises(services.TransitionError):
        services.entry_decide(
            entry_id=pending_entry.pk, by=users.manager2, approve=True, reason="ok"
        )


def test_it_refuses_approval_past_the_expiry(users, pending_entry):
    WatchlistEntry.objects.filter(pk=pending_entry.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(services.TransitionError):
        services.entry_decide(
            entry_id=pending_entry.pk, by=users.manager, approve=True, reason="ok"
        )


def test_it_lets_the_submitter_withdraw_but_not_another_contributor(users):
    entry = fx.approved_entry(users)
    other = make_user("contrib2", access.WATCHLIST_CONTRIBUTOR)
    with pytest.raises(PermissionDenied):
        services.entry_end(entry_id=entry.pk, by=other, withdraw=True, reason="x")
    entry = services.entry_end(
        entry_id=entry.pk, by=users.contributor, withdraw=True, reason="Arrested"
    )
    assert entry.state == State.WITHDRAWN and entry.ended_at is not None


def test_it_expires_only_approved_entries(users, pending_entry):
    with pytest.raises(services.TransitionError):
        services.entry_end(entry_id=pending_entry.pk, by=users.manager, withdraw=False, reason="x")


@pytest.mark.django_db(transaction=True)
def test_it_changes_state_once_when_approve_and_reject_race(users):
    entry = fx.submit_entry(users.contributor)
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(user, approve):
        barrier.wait()
        try:
            services.entry_decide(entry_id=entry.pk, by=user, approve=approve, reason="race")
            outcomes.append(("won", approve))
        except services.TransitionError:
            outcomes.append(("lost", approve))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(users.manager, True)),
        threading.Thread(target=decide, args=(users.manager2, False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o[0] for o in outcomes) == ["lost", "won"]
    winner = next(approve for result, approve in outcomes if result == "won")
    entry.refresh_from_db()
    assert entry.state == (State.APPROVED if winner else State.REJECTED)
    decisions = AuditEvent.objects.filter(
        action__in=["watchlist.entry_approve", "watchlist.entry_reject"]
    )
    assert decisions.count() == 1


# --- retention ----------------------------------------------------------------------------


def test_it_expires_entries_past_their_date_and_purges_them(users, settings):
    settings.LFR_ENTRY_PURGE_DAYS = 0
    entry = fx.approved_entry(users)
    WatchlistEntry.objects.filter(pk=entry.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    result = services.entry_retention()
    assert result["expired"] == [entry.pk] and result["purged"] == [entry.pk]
    entry.refresh_from_db()
    assert entry.state == State.EXPIRED and entry.purged_at is not None
    image = entry.images.get()
    assert image.jpeg is None and image.encoding is None
    receipt = AuditEvent.objects.get(action="retention.watchlist_entries")
    assert receipt.details["expired_ids"] == [entry.pk]
    assert receipt.details["purged_ids"] == [entry.pk] and receipt.details["images_purged"] == 1
    assert receipt.actor_id is None


def test_it_keeps_images_of_ended_entries_until_the_purge_period(users, settings):
    settings.LFR_ENTRY_PURGE_DAYS = 7
    rejected = fx.submit_entry(users.contributor, "S-1")
    services.entry_decide(entry_id=rejected.pk, by=users.manager, approve=False, reason="no")
    withdrawn = fx.approved_entry(users, "S-2")
    services.entry_end(entry_id=withdrawn.pk, by=users.manager, withdraw=True, reason="done")
    assert services.entry_retention()["purged"] == []
    later = timezone.now() + timedelta(days=7, minutes=1)
    assert services.entry_retention(now=later)["purged"] == [rejected.pk, withdrawn.pk]
    assert not ReferenceImage.objects.filter(jpeg__isnull=False).exists()


def test_it_never_purges_approved_or_pending_entries(users, settings):
    settings.LFR_ENTRY_PURGE_DAYS = 0
    fx.approved_entry(users, "S-1")
    fx.submit_entry(users.contributor, "S-2")
    # Before their expiry (every entry has one: LFR_ENTRY_EXPIRY_DAYS by default).
    result = services.entry_retention(now=timezone.now() + timedelta(days=300))
    assert result == {"expired": [], "purged": [], "images_purged": 0}
    assert ReferenceImage.objects.filter(jpeg__isnull=False).count() == 2


def test_it_leaves_no_receipt_when_there_is_nothing_to_do(users):
    fx.approved_entry(users)
    services.entry_retention()
    services.entry_retention()
    assert not AuditEvent.objects.filter(action="retention.watchlist_entries").exists()


def test_it_runs_retention_from_the_beat_task(users, settings):
    from watchlists.tasks import entry_retention

    settings.LFR_ENTRY_PURGE_DAYS = 0
    entry = fx.submit_entry(users.contributor)
    services.entry_decide(entry_id=entry.pk, by=users.manager, approve=False, reason="no")
    assert entry_retention() == {"expired": 0, "purged": 1, "images_purged": 1}


# --- what deployments may freeze -------------------------------------------------------------


def test_it_offers_only_approved_live_entries_to_a_snapshot(users, soon):
    live = fx.approved_entry(users, "S-1", expires_at=soon)
    fx.submit_entry(users.contributor, "S-2")  # pending
    gone = fx.approved_entry(users, "S-3", result=fx.biden())
    services.entry_end(entry_id=gone.pk, by=users.manager, withdraw=True, reason="done")
    fx.approved_entry(users, "S-4", category="missing", result=fx.openface("clapton-1.jpg"))
    rows = selectors.snapshot_candidates(
        categories=["wanted"], include_minors=False, at=timezone.now()
    )
    assert [r.entry_id for r in rows] == [live.pk]
    assert rows[0].subject_reference == "S-1" and rows[0].category == "wanted"
    assert [len(e) for e in rows[0].encodings] == [512]
    after_expiry = selectors.snapshot_candidates(
        categories=["wanted"], include_minors=False, at=soon + timedelta(seconds=1)
    )
    assert after_expiry == []


def test_it_excludes_under_18s_unless_included(users):
    today = timezone.localdate()
    minor_dob = date(today.year - 16, 1, 1)
    minor = fx.approved_entry(users, "S-minor", dob=minor_dob)
    adult = fx.approved_entry(users, "S-adult", dob=date(today.year - 30, 1, 1), result=fx.biden())
    now = timezone.now()
    ids = [
        r.entry_id
        for r in selectors.snapshot_candidates(categories=["wanted"], include_minors=False, at=now)
    ]
    assert ids == [adult.pk]
    ids = [
        r.entry_id
        for r in selectors.snapshot_candidates(categories=["wanted"], include_minors=True, at=now)
    ]
    assert ids == [minor.pk, adult.pk]
    counts = selectors.counts_by_category(categories=None, include_minors=False, at=now)
    assert counts == {
        "wanted": 1,
        "suspect": 0,
        "missing": 0,
        "risk_of_harm": 0,
        "excluded_minors": 1,
    }


def test_it_gives_no_snapshot_rows_for_purged_entries(users, settings):
    settings.LFR_ENTRY_PURGE_DAYS = 0
    entry = fx.approved_entry(users)
    WatchlistEntry.objects.filter(pk=entry.pk).update(purged_at=timezone.now())
    assert (
        selectors.snapshot_candidates(categories=["wanted"], include_minors=True, at=timezone.now())
        == []
    )


def test_it_finds_the_reference_image_while_it_is_held(users, settings):
    entry = fx.approved_entry(users)
    assert selectors.reference_image_for_entry(entry.pk) == entry.images.get()
    ReferenceImage.objects.filter(entry=entry).update(jpeg=None)
    assert selectors.reference_image_for_entry(entry.pk) is None
