"""Issue 16.6: the annual report (public), summed from the published records, and the
Art. 12(3) use log for a period (oversight)."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from deployments import selectors, selectors_annual, services
from deployments.models import DeploymentRecord
from oversight.selectors import ART12_COLUMNS, art12_log
from tests.factories import make_alert as raise_alert
from tests.fixtures_deployments import make_entry
from tests.fixtures_oversight import EXPECTED, adjudicate, completed_deployment, make_site

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
SUMMED = {
    "deployments": None,
    "faces_seen": "Faces seen (estimate)",
    "alerts": "Total Alerts",
    "false_alerts_confirmed": "False Alerts Confirmed",
    "false_alerts_unconfirmed": "False Alerts Unconfirmed",
    "not_adjudicated": "Not adjudicated",
    "arrests": "Outcome - Arrest",
    "outcome_other": "Outcome - Other",
    "no_action": "No action",
}


@pytest.fixture
def published(oversight_world):
    """The oversight world's four deployments (2026), each with its published record."""
    for d in oversight_world.deployments.values():
        services.record_compute(deployment=d)
    return oversight_world


def test_the_annual_report_is_the_sum_of_the_published_records(published):
    report = selectors_annual.annual_report(2026)
    rows = [r for r in selectors.published_rows() if r["Date"].startswith("2026")]
    assert len(rows) == 4
    for key, field in SUMMED.items():
        want = len(rows) if field is None else sum(int(r[field]) for r in rows)
        assert report[key] == want, key
    assert (
        report["false_alerts"]
        == report["false_alerts_confirmed"] + (report["false_alerts_unconfirmed"])
    )
    # The breakdowns add up to the same totals.
    assert sum(c["arrests"] for c in report["arrests_by_category"]) == report["arrests"]
    assert (
        sum(g["false_alerts"] for g in report["false_alerts_by_group"]) == (report["false_alerts"])
    )
    assert (
        sum(g["decided_alerts"] for g in report["false_alerts_by_group"])
        == (report["adjudicated_alerts"])
    )
    for section in ("by_use_case", "by_site"):
        assert sum(t["deployments"] for t in report[section]) == 4
        assert sum(t["alerts"] for t in report[section]) == report["alerts"]
        assert sum(t["arrests"] for t in report[section]) == report["arrests"]
    assert sorted(report["records"]) == sorted(r["Deployment Reference"] for r in rows)


def test_the_annual_report_has_the_hand_counted_figures(published):
    report = selectors_annual.annual_report(2026)
    total = EXPECTED["total"]
    assert (report["deployments"], report["faces_seen"], report["alerts"]) == (4, 55000, 10)
    assert report["false_alerts"] == total["false_alerts"] == 4
    assert report["not_adjudicated"] == 1 and report["adjudicated_alerts"] == 9
    assert report["false_alert_rate_over_alerts"] == round(4 / 9, 10)
    assert report["false_alert_rate_over_faces"] == round(4 / 55000, 10)
    assert report["arrests"] == total["outcome_arrest"] == 2
    by_use = {t["name"]: t["deployments"] for t in report["by_use_case"]}
    assert by_use == {"Crime hotspot": 2, "Event protection": 1, "Missing persons": 1}
    by_site = {t["name"]: t["deployments"] for t in report["by_site"]}
    assert by_site == {"Oxford Circus": 2, "Wembley": 1, "Croydon": 1}
    black = next(g for g in report["false_alerts_by_group"] if g["group"] == "Black")
    # Black: alerts 2 (true), 3 (false), 7 (corrected to false) -> 2 false of 3.
    assert (black["decided_alerts"], black["false_alerts"]) == (3, 2)
    assert black["ci_low"] < 2 / 3 < black["ci_high"] and black["too_few_to_conclude"]


def test_the_rates_stand_beside_the_undecided_count(published):
    report = selectors_annual.annual_report(2026)
    assert report["false_alert_rate_over_alerts_text"] == (
        "44.44% of 9 adjudicated; 1 not adjudicated"
    )
    assert report["false_alert_rate_over_faces_text"] == (
        "0.0073% of 55,000 faces (1 in 13,750 faces); 1 not adjudicated"
    )


def test_all_undecided_never_reads_as_zero_false_alerts(deployment_in_state, users):
    d = deployment_in_state("live")
    for _ in range(3):
        raise_alert(d)
    services.lifecycle_tick(now=d.ends_at + timedelta(seconds=1))
    d.refresh_from_db()
    report = selectors_annual.annual_report(int(d.record.fields["Date"][:4]))
    assert report["false_alert_rate_over_alerts"] is None
    assert report["false_alert_rate_over_alerts_text"] == (
        "n/a (none adjudicated); 3 not adjudicated"
    )
    assert "0.00%" not in report["false_alert_rate_over_alerts_text"]


def test_arrests_are_counted_by_the_matched_entrys_category(users):
    wanted = make_entry(users.contributor, users.manager, category="wanted")
    missing = make_entry(users.contributor, users.manager, category="missing")
    site, camera = make_site("Stratford")
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    d = completed_deployment(
        reference="LFR-2603-01", site=site, camera=camera, use_case="crime_hotspot",
        starts_at=start, faces_seen=900, by=users.command,
    )  # fmt: skip
    # Ten minutes apart: separate sightings, so three alerts.
    for i, entry in enumerate([wanted, wanted, missing]):
        alert = raise_alert(d, entry_id=entry.pk, frame_at=start + timedelta(minutes=10 * i))
        adjudicate(alert, by=users.officer, true=True, outcome="arrest")
    services.record_compute(deployment=d)
    report = selectors_annual.annual_report(2026)
    arrests = {c["category"]: c["arrests"] for c in report["arrests_by_category"]}
    assert arrests == {"wanted": 2, "suspect": 0, "missing": 1, "risk_of_harm": 0}
    assert report["arrests"] == 3


def test_a_record_without_a_breakdown_counts_its_arrests_uncategorised(published):
    DeploymentRecord.objects.update(breakdown={})
    report = selectors_annual.annual_report(2026)
    arrests = {c["category"]: c["arrests"] for c in report["arrests_by_category"]}
    assert arrests["Not recorded"] == report["arrests"] == 2
    assert sum(g["false_alerts"] for g in report["false_alerts_by_group"]) == 4


def test_a_signed_off_record_keeps_its_breakdown(published):
    d = published.deployments["D1"]
    record = d.record
    DeploymentRecord.objects.filter(pk=record.pk).update(
        review="ok", reviewed_at=record.computed_at, signed_off_at=record.computed_at
    )
    before = selectors_annual.annual_report(2026)
    d.alerts.first().adjudications.update(outcome="arrest")
    services.record_compute(deployment=d)  # frozen: nothing moves
    assert (
        selectors_annual.annual_report(2026)["arrests_by_category"] == before["arrests_by_category"]
    )


def test_the_annual_page_is_public_and_shows_nothing_sensitive(client, published):
    html = client.get(reverse("transparency:annual", args=[2026])).content.decode()
    assert "annual report 2026" in html and "Oxford Circus" in html
    assert "44.44% of 9 adjudicated; 1 not adjudicated" in html
    for sensitive in ("S-0001", "S-0002", "Seeded for oversight tests", "file://"):
        assert sensitive not in html, sensitive


def test_the_annual_json_and_csv_carry_the_same_figures(client, published):
    body = client.get(reverse("transparency:annual_json", args=[2026])).json()
    assert body == {**selectors_annual.annual_report(2026), "generated_at": body["generated_at"]}
    assert ISO_WITH_OFFSET.match(body["generated_at"])
    response = client.get(reverse("transparency:annual_csv", args=[2026]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == selectors_annual.ANNUAL_CSV_COLUMNS
    totals = {r["figure"]: r["value"] for r in rows if r["section"] == "totals"}
    assert totals["Deployments"] == "4" and totals["Alerts"] == "10"
    assert totals["False alerts"] == "4" and totals["Not adjudicated"] == "1"


def test_an_empty_year_reports_zeros_not_an_error(client, db):
    response = client.get(reverse("transparency:annual", args=[2019]))
    assert response.status_code == 200
    assert selectors_annual.annual_report(2019)["false_alert_rate_over_alerts"] is None


# --- the Art. 12(3) use log ---------------------------------------------------------------


def test_the_use_log_has_each_use_its_database_each_match_and_who_verified(published):
    rows = art12_log()
    assert all(list(r) == ART12_COLUMNS for r in rows)
    d1 = [r for r in rows if r["deployment_reference"] == "LFR-2607-01"]
    assert len(d1) == 4  # four alerts
    first = d1[0]
    assert ISO_WITH_OFFSET.match(first["use_started_at"])
    assert ISO_WITH_OFFSET.match(first["use_ended_at"])
    assert ISO_WITH_OFFSET.match(first["matched_at"])
    assert first["reference_database"].startswith("watchlist frozen for LFR-2607-01")
    assert first["matched_subject_reference"] and first["matched_entry_id"]
    assert first["verified_by"] == published.users.officer.get_username()
    assert first["decision"] == "true confirmed" and first["outcome"] == "arrest"
    undecided = d1[3]
    assert undecided["decision"] == "not adjudicated" and undecided["verified_by"] == ""


def test_the_use_log_keeps_to_its_period(published):
    since = datetime(2026, 8, 1, tzinfo=UTC)
    until = datetime(2026, 9, 1, tzinfo=UTC)
    refs = {r["deployment_reference"] for r in art12_log(since=since, until=until)}
    assert refs == {"LFR-2608-01"}


def test_the_use_log_export_is_audited_and_is_csv(client, login, published):
    login(published.users.oversight)
    url = reverse("oversight:art12_log")
    response = client.get(url, {"format": "csv", "since": "2026-07-01", "until": "2026-07-31"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert list(rows[0]) == ART12_COLUMNS
    assert {r["deployment_reference"] for r in rows} == {"LFR-2607-01", "LFR-2607-02"}
    event = AuditEvent.objects.get(action="audit.art12_export")
    assert event.details["rows"] == len(rows) == 7 and event.details["format"] == "csv"
    body = client.get(url, {"format": "json"}).json()
    assert len(body["uses"]) == 10


def test_an_officer_cannot_export_the_use_log(client, login, published):
    login(published.users.officer)
    assert client.get(reverse("oversight:art12_log"), {"format": "csv"}).status_code == 404


# --- the seeded demo history ---------------------------------------------------------------


@pytest.fixture
def demo_history(users):
    """The demo users and watchlist seed_demo makes, then seed_demo_history."""
    from django.core.management import call_command

    for name, user in [("command", users.command), ("authoriser", users.authoriser),
                       ("officer", users.officer), ("officer2", users.officer2)]:  # fmt: skip
        type(user).objects.filter(pk=user.pk).update(username=name)
    for n in range(2):
        entry = make_entry(users.contributor, users.manager)
        type(entry.subject).objects.filter(pk=entry.subject_id).update(reference=f"DEMO-{n}")
    call_command("seed_demo_history", stdout=io.StringIO())


def test_the_seeded_years_report_agrees_with_its_records(demo_history, settings):
    rows = selectors.published_rows()
    assert {r["Deployment Reference"] for r in rows} == {"DEMO-H1", "DEMO-H2", "DEMO-H3"}
    for year in {int(r["Date"][:4]) for r in rows}:
        report = selectors_annual.annual_report(year)
        mine = [r for r in rows if r["Date"].startswith(str(year))]
        for key, field in SUMMED.items():
            want = len(mine) if field is None else sum(int(r[field]) for r in mine)
            assert report[key] == want, (year, key)
        assert sum(c["arrests"] for c in report["arrests_by_category"]) == report["arrests"]
    sent = AuditEvent.objects.filter(action="deployment.notice_sent").count()
    assert sent == 3 * len(settings.LFR_NOTICE_AUTHORITIES)


def test_seeding_the_history_twice_adds_nothing(demo_history):
    from django.core.management import call_command

    before = DeploymentRecord.objects.count()
    call_command("seed_demo_history", stdout=io.StringIO())
    assert DeploymentRecord.objects.count() == before == 3
