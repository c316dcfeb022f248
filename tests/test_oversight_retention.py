from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from recognition.models import Adjudication, Alert
from recognition.services.holds import alert_hold_place, alert_hold_release
from recognition.services.retention import RECEIPT_ACTION, alerts_purge_expired
from recognition.tasks import alert_retention
from tests.fixtures_oversight import adjudicate, make_alert

REASON = "R v Smith, Southwark Crown Court, disclosure due"


@pytest.fixture
def aged(live_deployment, users, settings):
    """Two alerts past the 31-day retention (one corrected), one recent."""
    settings.LFR_ALERT_RETENTION_DAYS = 31
    now = timezone.now()
    old = make_alert(live_deployment, at=now - timedelta(days=40))
    first = adjudicate(old, by=users.officer, true=True)
    adjudicate(old, by=users.officer, true=False, corrects=first, after=5)
    old_held = make_alert(live_deployment, at=now - timedelta(days=45))
    adjudicate(old_held, by=users.officer, true=True, outcome="arrest")
    recent = make_alert(live_deployment, at=now - timedelta(days=10))
    return old, old_held, recent


def test_it_keeps_a_held_alert_and_deletes_an_unheld_one(aged, users):
    old, old_held, recent = aged
    alert_hold_place(alert=old_held, by=users.command, reason=REASON)
    alert_retention()  # the beat task, which calls alerts_purge_expired()
    remaining = set(Alert.objects.values_list("pk", flat=True))
    assert remaining == {old_held.pk, recent.pk}
    assert not Adjudication.objects.filter(alert_id=old.pk).exists()
    assert Adjudication.objects.filter(alert_id=old_held.pk).count() == 1


def test_it_deletes_the_alert_once_its_hold_is_lifted(aged, users):
    old, old_held, recent = aged
    alert_hold_place(alert=old_held, by=users.command, reason=REASON)
    alert_hold_release(alert=old_held, by=users.command, reason="Proceedings concluded 2026")
    alerts_purge_expired()
    assert set(Alert.objects.values_list("pk", flat=True)) == {recent.pk}


def test_it_leaves_one_receipt_with_counts_and_ids_but_no_content(aged, users):
    old, old_held, recent = aged
    alert_hold_place(alert=old_held, by=users.command, reason=REASON)
    alerts_purge_expired()
    receipt = AuditEvent.objects.get(action=RECEIPT_ACTION)
    assert receipt.actor_id is None  # the system
    assert receipt.details["alerts_deleted"] == 1
    assert receipt.details["adjudications_deleted"] == 2
    assert receipt.details["held_kept"] == 1
    assert receipt.details["alert_ids"] == [old.pk]
    text = str(receipt.details)
    assert "S-0001" not in text and "crop" not in text


def test_it_leaves_no_receipt_when_nothing_is_due(db):
    # The rule of every retention job: a receipt for each run that deletes, none otherwise.
    assert alerts_purge_expired()["alerts_deleted"] == 0
    assert not AuditEvent.objects.filter(action=RECEIPT_ACTION).exists()


# --- holds ----------------------------------------------------------------------------------


def test_it_records_placing_and_lifting_a_hold_with_reasons(aged, users):
    _, alert, _ = aged
    held = alert_hold_place(alert=alert, by=users.command, reason=REASON)
    assert held.legal_hold and held.held_by == users.command and held.hold_reason == REASON
    alert_hold_release(alert=held, by=users.admin, reason="Disclosure completed, case closed")
    events = list(AuditEvent.objects.filter(action__startswith="alert.hold_").order_by("seq"))
    assert [(e.action, e.actor_username) for e in events] == [
        ("alert.hold_placed", "cmd"),
        ("alert.hold_released", "adm"),
    ]
    assert events[0].details["reason"] == REASON
    assert events[1].details["placed_reason"] == REASON


def test_it_requires_a_reason(aged, users):
    with pytest.raises(ValidationError):
        alert_hold_place(alert=aged[1], by=users.command, reason="because")
    assert not Alert.objects.get(pk=aged[1].pk).legal_hold


def test_it_refuses_to_hold_twice_or_lift_what_is_not_held(aged, users):
    alert_hold_place(alert=aged[1], by=users.command, reason=REASON)
    with pytest.raises(ValidationError):
        alert_hold_place(alert=aged[1], by=users.admin, reason=REASON)
    with pytest.raises(ValidationError):
        alert_hold_release(alert=aged[0], by=users.command, reason="Nothing to release here")


# Role groups survive the flush after a transactional test (core.roles post_migrate).
@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_racing_holds_win(users, live_deployment):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    alert = make_alert(live_deployment, at=timezone.now())

    def place(by):
        try:
            alert_hold_place(alert=Alert.objects.get(pk=alert.pk), by=by, reason=REASON)
            return "held"
        except ValidationError:
            return "refused"
        finally:
            connection.close()

    if connection.vendor == "sqlite":
        results = [place(users.command), place(users.admin)]
    else:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(place, [users.command, users.admin]))
    assert sorted(results) == ["held", "refused"]
    assert AuditEvent.objects.filter(action="alert.hold_placed").count() == 1


# --- pages: allowed / read-only / outsider ------------------------------------------------


def test_it_lets_command_staff_place_and_lift_holds_from_the_dashboard(login, aged, users):
    client = login(users.command)
    response = client.post(
        reverse("oversight:hold_place_by_id"), {"alert": aged[1].pk, "reason": REASON}
    )
    assert response.status_code == 302
    assert Alert.objects.get(pk=aged[1].pk).legal_hold
    body = client.get(reverse("oversight:retention")).content.decode()
    assert REASON in body and "Lift hold" in body
    client.post(
        reverse("oversight:hold_release", args=[aged[1].pk]), {"reason": "Case closed in 2026"}
    )
    assert not Alert.objects.get(pk=aged[1].pk).legal_hold


def test_it_links_administrators_from_the_audit_log_to_holds(login, users, fresh_cache):
    client = login(users.admin)
    assert reverse("oversight:retention").encode() in client.get(reverse("oversight:audit")).content
    assert client.get(reverse("oversight:retention")).status_code == 200


def test_it_shows_a_short_reason_as_an_error(login, aged, users):
    client = login(users.admin)
    response = client.post(
        reverse("oversight:hold_place", args=[aged[1].pk]), {"reason": "x"}, follow=True
    )
    assert b"at least 10 characters" in response.content
    assert not Alert.objects.get(pk=aged[1].pk).legal_hold


@pytest.mark.parametrize("name", ["oversight:hold_place", "oversight:hold_release"])
def test_it_refuses_oversight_every_hold_write(login, aged, users, name):
    alert_hold_place(alert=aged[0], by=users.command, reason=REASON)
    for alert in aged:
        response = login(users.oversight).post(reverse(name, args=[alert.pk]), {"reason": REASON})
        assert response.status_code == 403
    assert Alert.objects.filter(legal_hold=True).count() == 1
    assert AuditEvent.objects.filter(actor_username="ovs", outcome="denied").exists()


def test_it_refuses_oversight_the_dashboard_hold_form(login, aged, users):
    response = login(users.oversight).post(
        reverse("oversight:hold_place_by_id"), {"alert": aged[1].pk, "reason": REASON}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["officer2", "nobody", "authoriser"])
def test_it_hides_holds_and_retention_from_outsiders(login, aged, users, role):
    # officer2 is not assigned to the deployment, so its alerts do not exist for them.
    client = login(getattr(users, role))
    assert client.get(reverse("oversight:retention")).status_code == 404
    url = reverse("oversight:hold_place", args=[aged[1].pk])
    assert client.post(url, {"reason": REASON}).status_code == 404


def test_it_shows_what_is_held_and_when_it_goes(login, aged, users, oversight_world):
    alert_hold_place(alert=aged[1], by=users.command, reason=REASON)
    alerts_purge_expired()
    response = login(users.oversight).get(reverse("oversight:retention"))
    assert response.status_code == 200
    r = response.context["r"]
    # Seeded July-September alerts are past 31 days too; only the purge run removed them.
    assert r["alerts"]["total"] == 2 and r["alerts"]["held"] == 1 and r["alerts"]["held_past"] == 1
    assert r["alerts"]["with_crop"] == 2
    assert r["alerts"]["due_week"] == 0 and r["alerts"]["overdue"] == 0
    assert r["alerts"]["next_deletion"] == aged[2].created_at + timedelta(days=31)
    body = response.content.decode()
    assert RECEIPT_ACTION in body and "alerts_deleted: 11" in body
    assert "Place legal hold" not in body  # oversight reviews holds, it does not place them


def test_it_lets_an_assigned_officer_see_but_not_hold_an_alert(login, aged, users):
    url = reverse("oversight:hold_place", args=[aged[1].pk])
    assert login(users.officer).post(url, {"reason": REASON}).status_code == 403


def test_it_says_when_snapshots_and_ended_entries_will_go(live_deployment, users, settings):
    from deployments.models import DeploymentWatchlist
    from oversight.selectors import retention
    from watchlists.models import Subject, WatchlistEntry

    settings.LFR_WATCHLIST_GRACE_HOURS = 24
    settings.LFR_ENTRY_PURGE_DAYS = 2
    DeploymentWatchlist.objects.create(
        deployment=live_deployment,
        frozen_at=live_deployment.starts_at,
        entry_ids=[1, 2],
        subject_references=["S-1", "S-2"],
        encodings=bytes(2 * 512),
    )
    subject = Subject.objects.create(
        reference="S-1", display_name="A", created_by=users.contributor
    )
    ended = timezone.now() - timedelta(days=1)
    WatchlistEntry.objects.create(
        subject=subject, category="wanted", legal_basis="PACE", case_reference="CR-9",
        provenance="custody", submitted_by=users.contributor, state="expired", ended_at=ended,
    )  # fmt: skip
    r = retention()
    assert r["snapshots"] == {"total": 1, "with_encodings": 1, "without_encodings": 0}
    assert r["snapshot_due"][0]["due"] == live_deployment.ends_at + timedelta(hours=24)
    assert r["entry_due"][0]["due"] == ended + timedelta(days=2)
    assert {e["state"]: e["count"] for e in r["entries"]}["expired"] == 1


def test_the_retention_page_lists_every_record_class_with_its_period_from_settings(
    login, users, settings
):
    from django.urls import reverse

    settings.LFR_ALERT_RETENTION_DAYS = 17
    settings.LFR_WATCHLIST_GRACE_HOURS = 9
    body = login(users.oversight).get(reverse("oversight:retention")).content.decode()
    assert 'data-testid="retention-schedule"' in body
    for text in ("17 days from the alert", "9 h after the deployment ends", "Audit log"):
        assert text in body
    assert "Assessments (DPIA" in body and "Faces that do not match" in body
