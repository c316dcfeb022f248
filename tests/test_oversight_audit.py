import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from core import access
from core.models import AuditEvent
from core.services import audit_record
from oversight import selectors
from tests.fixtures_oversight import make_alert

GOOD = "Case 2026/1432: identity check before arrest"


def _view(user, n=1, *, action="watchlist.image_viewed", purpose=GOOD, obj=None, **kw):
    for _ in range(n):
        audit_record(actor=user, action=action, purpose=purpose, obj=obj, **kw)


def _explorer(client, **params):
    return client.get(reverse("oversight:audit"), params)


# --- explorer -------------------------------------------------------------------------------


def test_it_filters_by_user_action_object_and_outcome(login, users, fresh_cache):
    _view(users.contributor, 2)
    _view(users.manager, 1, action="watchlist.entry_approved")
    audit_record(actor=users.officer, action="alert.crop_viewed", object_type="recognition.alert",
                 object_id=7, purpose=GOOD)  # fmt: skip
    audit_record(actor=users.officer, action="audit.list", outcome="denied")
    assert selectors.audit_events(user="contrib").count() == 2
    assert selectors.audit_events(action="watchlist.").count() == 3
    assert selectors.audit_events(object_type="recognition.alert", object_id="7").count() == 1
    assert selectors.audit_events(outcome="denied").count() == 1
    page = _explorer(login(users.oversight), user="off", outcome="denied")
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 1


def test_it_searches_free_text_over_purpose_details_and_action(login, users, fresh_cache):
    _view(users.contributor, 1, purpose="Case 2026/1432: identity check")
    _view(users.manager, 1, action="watchlist.entry_approve", purpose="", details={"r": "Warrant"})
    audit_record(actor=users.officer, action="alert.crop_viewed", purpose="Case 77")
    assert selectors.audit_events(q="1432").count() == 1
    assert selectors.audit_events(q="warrant").count() == 1  # inside the details
    assert selectors.audit_events(q="crop case").count() == 1  # every word must match
    page = _explorer(login(users.oversight), q="mgr approve")
    assert page.context["page"].paginator.count == 1
    export = _explorer(login(users.oversight), q="1432", format="csv")
    body = b"".join(export.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    # The purpose that matched, and the export's own audit row (its filters name "1432").
    assert export.status_code == 200
    assert sorted(r["action"] for r in rows) == ["audit.exported", "watchlist.image_viewed"]


def test_it_filters_by_time(login, users, fresh_cache):
    _view(users.contributor, 3)
    later = timezone.now() + timedelta(minutes=1)
    assert selectors.audit_events(since=later).count() == 0
    assert selectors.audit_events(until=later, user="contrib").count() == 3


def test_it_paginates(login, users, fresh_cache):
    _view(users.contributor, 60)
    client = login(users.oversight)
    first = _explorer(client, user="contrib")
    assert len(first.context["page"].object_list) == 50
    second = _explorer(client, user="contrib", page=2)
    assert len(second.context["page"].object_list) == 10


def test_it_exports_the_filtered_set_as_csv(login, users, fresh_cache):
    _view(users.contributor, 3)
    _view(users.manager, 2)
    response = _explorer(login(users.oversight), user="contrib", format="csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 3 and {r["actor_username"] for r in rows} == {"contrib"}
    assert rows[0]["purpose"] == GOOD
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.actor_username == "ovs" and exported.details["filters"] == {"user": "contrib"}


def test_it_keeps_formulas_in_the_export_as_text(login, users, fresh_cache):
    _view(users.contributor, 1, purpose='=HYPERLINK("http://evil.example","case")')
    response = _explorer(login(users.oversight), user="contrib", format="csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["purpose"].startswith("'=HYPERLINK")


def test_it_audits_reading_the_explorer(login, users, fresh_cache):
    _explorer(login(users.oversight), action="watchlist.")
    event = AuditEvent.objects.filter(action="audit.viewed").get()
    assert event.actor_username == "ovs"
    assert event.details == {"filters": {"action": "watchlist."}, "page": 1}


def test_it_shows_and_caches_the_chain_verification(login, users, fresh_cache):
    _view(users.contributor, 4)
    client = login(users.oversight)
    body = _explorer(client).content.decode()
    # 4 views, and this reading of the explorer itself, recorded before the walk.
    assert "chain intact" in body and "Verified 5 events" in body
    _explorer(client)
    assert AuditEvent.objects.filter(action="audit.verified").count() == 1  # cached
    response = client.post(reverse("oversight:audit_verify"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="audit.verified").count() == 2


def test_it_shows_a_broken_chain(login, users, fresh_cache, monkeypatch):
    _view(users.contributor, 2)
    bad = AuditEvent.objects.order_by("seq").last()
    monkeypatch.setattr(
        "oversight.services.audit_verify",
        lambda: (False, 1, bad, "content does not match its hash"),
    )
    body = _explorer(login(users.oversight)).content.decode()
    assert "chain broken" in body and f"#{bad.seq}" in body


# --- flags: each fires on its pattern and stays quiet on normal use ------------------------


def test_it_flags_many_image_views_by_one_user(users):
    _view(users.contributor, selectors.IMAGE_VIEWS_LIMIT, action="watchlist.image_viewed")
    _view(users.manager, 5, action="watchlist.reference_viewed")
    heavy = selectors.audit_flags()["heavy_viewers"]
    assert [f["user"] for f in heavy] == ["contrib"]
    assert heavy[0]["count"] == selectors.IMAGE_VIEWS_LIMIT


def test_it_counts_crop_and_any_viewed_action_as_sensitive():
    assert selectors.is_sensitive_read("alert.crop_viewed")
    assert selectors.is_sensitive_read("watchlist.reference_viewed")
    assert selectors.is_sensitive_read("watchlist.image_view")
    assert selectors.is_sensitive_read("watchlist.subject_view")
    assert selectors.is_sensitive_read("watchlist.image_downloaded")
    assert not selectors.is_sensitive_read("watchlist.entry_view")
    assert not selectors.is_sensitive_read("deployment.view")
    assert not selectors.is_sensitive_read("alert.adjudicated")
    assert not selectors.is_sensitive_read("audit.viewed")


def test_it_does_not_flag_normal_viewing(users):
    _view(users.contributor, selectors.IMAGE_VIEWS_LIMIT - 1)
    _view(users.manager, 10, action="alert.crop_viewed")
    flags = selectors.audit_flags()
    assert flags["heavy_viewers"] == [] and flags["weak_purposes"] == []


@pytest.mark.parametrize(
    "purpose", ["", "x", "test", "asdf", "  TEST ", "aaaaaa", "abcabcabc", "qwertyu", "n/a", "...."]
)
def test_it_recognises_junk_purposes(purpose):
    assert selectors.weak_purpose_reason(purpose)


@pytest.mark.parametrize(
    "purpose", [GOOD, "OP-RAVEN-14", "CAD 4471/27NOV", "Missing person review MP-2026-88"]
)
def test_it_accepts_real_purposes(purpose):
    assert selectors.weak_purpose_reason(purpose) == ""


def test_it_flags_views_without_a_real_purpose(users):
    _view(users.contributor, 1, purpose="test")
    _view(users.contributor, 1, purpose="")
    _view(users.manager, 3, purpose="OP-RAVEN-14")
    audit_record(actor=users.manager, action="watchlist.entry_approved", purpose="")  # not a read
    weak = selectors.audit_flags()["weak_purposes"]
    assert sorted(f["reason"] for f in weak) == ["no purpose given", "placeholder text"]
    assert {f["event"].actor_username for f in weak} == {"contrib"}


def test_it_flags_alert_views_outside_the_deployments_hours(oversight_world, live_deployment):
    users = oversight_world.users
    old = oversight_world.alerts[0]  # deployment ended in July: viewing it now is out of hours
    now_alert = make_alert(live_deployment, at=timezone.now())
    _view(users.officer, 1, action="alert.crop_viewed", obj=old)
    _view(users.officer2, 1, action="alert.crop_viewed", obj=now_alert)
    out = selectors.audit_flags()["out_of_hours"]
    assert [(f["event"].actor_username, f["deployment"].reference) for f in out] == [
        ("off", "LFR-2607-01")
    ]
    assert out[0]["when"] == "after the end"


def test_it_does_not_flag_views_within_the_grace_after_the_end(users, live_deployment, settings):
    settings.LFR_WATCHLIST_GRACE_HOURS = 24
    live_deployment.starts_at = timezone.now() - timedelta(hours=8)
    live_deployment.ends_at = timezone.now() - timedelta(hours=2)
    live_deployment.save()
    alert = make_alert(live_deployment, at=live_deployment.starts_at)
    _view(users.officer, 1, action="alert.crop_viewed", obj=alert)
    assert selectors.audit_flags()["out_of_hours"] == []


def test_it_flags_repeated_denied_attempts(users):
    for _ in range(selectors.DENIED_LIMIT):
        with pytest.raises(Http404):
            access.require(users.nobody, "audit", "list")
    for _ in range(2):
        with pytest.raises(Http404):
            access.require(users.officer, "audit", "list")
    denied = selectors.audit_flags()["repeated_denials"]
    assert [(f["user"], f["count"]) for f in denied] == [("nobody", selectors.DENIED_LIMIT)]


def test_it_flags_repeated_failed_logins_by_name(client, users):
    for _ in range(selectors.DENIED_LIMIT):
        client.post(reverse("login"), {"username": "cmd", "password": "wrong"})
    denied = selectors.audit_flags()["repeated_denials"]
    assert len(denied) == 1 and denied[0]["user"].startswith("cmd (not logged in")


def test_it_does_not_flag_occasional_denials(users):
    for user in (users.nobody, users.officer, users.command):
        with pytest.raises(Http404):
            access.require(user, "audit", "list")
    assert selectors.audit_flags()["repeated_denials"] == []


def test_it_shows_the_flags_on_the_explorer(login, users, fresh_cache):
    _view(users.contributor, selectors.IMAGE_VIEWS_LIMIT, purpose="asdf")
    body = _explorer(login(users.oversight)).content.decode()
    assert 'data-flag="heavy"' in body and 'data-flag="purpose"' in body
    assert selectors.weak_purpose_reason("asdf") == "placeholder text"
    assert "placeholder text" in body


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["oversight", "admin"])
def test_it_lets_auditors_read_and_export(login, users, fresh_cache, role):
    client = login(getattr(users, role))
    assert _explorer(client).status_code == 200
    assert _explorer(client, format="csv").status_code == 200
    assert client.post(reverse("oversight:audit_verify")).status_code == 302


@pytest.mark.parametrize("role", ["officer", "command", "nobody"])
def test_it_hides_the_audit_log_from_others(login, users, role):
    client = login(getattr(users, role))
    assert _explorer(client).status_code == 404
    assert _explorer(client, format="csv").status_code == 404
    assert client.post(reverse("oversight:audit_verify")).status_code == 404


ISO_WITH_OFFSET = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d"


def test_it_exports_times_as_iso_8601_with_the_forces_offset(login, users, fresh_cache, settings):
    settings.TIME_ZONE = "America/New_York"  # -05:00 or -04:00: never mistaken for UTC
    _view(users.contributor, 1)
    response = _explorer(login(users.oversight), user="contrib", format="csv")
    (row,) = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert re.fullmatch(ISO_WITH_OFFSET, row["at"]) and row["at"][-6:] in ("-05:00", "-04:00")
    at = AuditEvent.objects.get(actor_username="contrib").at
    assert datetime.fromisoformat(row["at"]) == at
