"""The public transparency page and exports: the Met's fields, nothing personal."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments import selectors, services

MET = [
    "Deployment Location",
    "Date",
    "Duration",
    "LFR Use Case",
    "Watchlist Size",
    "Min Threshold Setting",
    "Total Alerts",
    "True Alerts Confirmed",
    "True Alerts Unconfirmed",
    "False Alerts Confirmed",
    "False Alerts Unconfirmed",
    "False Alert Rate",
    "Outcome - Arrest",
    "Outcome - Other",
    "No action",
    "Faces seen (estimate)",
]
# Ours, after the Met's (docs/TRANSPARENCY.md).
EXTRA = [
    "Not adjudicated",
    "Not adjudicated share",
    "Record Status",
    "Deployment Reference",
    "Start Time",
    "End Time",
    "Threshold Meaning",
    "Expected False Alert Rate",
    "Advance Notice",
    "Advance Notice Page",
    "Live True Positive Rate",
    "Alert Verification",
    "Verified by Two Officers",
    "Single-verified",
    "Verification Disagreed",
]


def test_the_csv_header_is_exactly_the_mets_field_names(client, deployment_in_state):
    deployment_in_state("completed")
    response = client.get("/transparency/deployments.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:16] == MET and rows[0][16:] == EXTRA
    assert len(rows) == 2 and rows[1][0] == "Oxford Circus"


def test_the_csv_header_is_there_with_no_deployments(client, db):
    rows = list(
        csv.reader(io.StringIO(client.get("/transparency/deployments.csv").content.decode()))
    )
    assert rows == [MET + EXTRA]


def test_the_json_keys_are_the_mets_field_names_then_ours(client, deployment_in_state):
    first = deployment_in_state("completed")
    second = deployment_in_state("completed", starts_at=first.ends_at)
    deployment_in_state("live", starts_at=second.ends_at)  # not published
    data = client.get("/transparency/deployments.json").json()
    assert len(data) == 2
    assert all(list(row) == MET + EXTRA for row in data)


def test_the_public_page_needs_no_login_and_shows_nothing_personal(
    client, deployment_in_state, users, settings
):
    from tests.fixtures_deployments import make_entry

    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 14  # the upcoming one is announced

    entry = make_entry(users.contributor, users.manager)
    for user in (users.command, users.authoriser, users.officer):
        # The fixture's short names ("off", "auth") are ordinary words on this page.
        user.username = f"user-{user.pk}-zqx"
        user.save(update_fields=["username"])
    done = deployment_in_state("completed")
    services.record_review(deployment=done, by=users.command, review="Reviewed by cmd.")
    upcoming = deployment_in_state(
        "authorised", starts_at=done.ends_at, dpia_reference="DPIA-SECRET-REF"
    )
    response = client.get("/transparency/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Oxford Circus" in html
    assert timezone.localtime(upcoming.starts_at).strftime("%Y-%m-%d %H:%M") in html
    for personal in (
        users.command.username,
        users.authoriser.username,
        users.officer.username,
        entry.subject.reference,
        entry.subject.display_name,
        entry.case_reference,
        "Reviewed by cmd.",
        "DPIA-SECRET-REF",
        "Knife crime",  # the internal necessity case
        "rtsp://",
        "cam-north",
    ):
        assert personal not in html, personal


def test_upcoming_shows_only_deployments_with_public_notice(client, deployment_in_state, settings):
    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 14  # both start within it, whatever today is
    first = deployment_in_state("authorised")
    secret = deployment_in_state(
        "authorised",
        starts_at=first.starts_at + timedelta(days=1, hours=3),
        public_notice=False,
        no_notice_reason="covert operation",
    )
    notices = list(selectors.upcoming_notices())
    assert first in notices and secret not in notices
    html = client.get("/transparency/").content.decode()
    assert timezone.localtime(first.starts_at).strftime("%Y-%m-%d %H:%M") in html
    assert timezone.localtime(secret.starts_at).strftime("%Y-%m-%d %H:%M") not in html
    assert "covert operation" not in html


def test_submitted_deployments_are_not_announced(deployment_in_state):
    d = deployment_in_state("submitted")
    assert d not in selectors.upcoming_notices()


def test_the_yearly_summary_totals_the_records(deployment_in_state):
    a = deployment_in_state("completed")
    b = deployment_in_state("completed", starts_at=a.ends_at)
    type(a).objects.filter(pk__in=[a.pk, b.pk]).update(faces_seen=1000)
    for d in (a, b):
        d.refresh_from_db()
        services.record_compute(deployment=d)
    (year,) = selectors.yearly_summary()
    assert year["Deployments"] == 2
    assert year["Faces seen (estimate)"] == 2000
    assert year["Total Alerts"] == 0 and year["False Alert Rate"] == "n/a"


def test_the_json_export_is_in_the_api_schema(login, users):
    schema = login(users.command).get(reverse("schema")).content.decode()
    assert "/transparency/deployments.json" in schema


def test_the_public_page_shows_the_yearly_totals(client, deployment_in_state):
    d = deployment_in_state("completed")
    type(d).objects.filter(pk=d.pk).update(faces_seen=4321)
    d.refresh_from_db()
    services.record_compute(deployment=d)
    html = client.get("/transparency/").content.decode()
    year = d.record.fields["Date"][:4]
    assert f"<th>Year</th><th>{year}</th>" in html
    assert '<th scope="row">Deployments</th><td>1</td>' in html and "<td>4321</td>" in html


def _undecided_world(deployment_in_state, users, *, decided=3, undecided=72, **plan):
    """A finished deployment with `decided` true alerts (0 false) and `undecided` never
    adjudicated: a record once read "0.00%" false alerts with 72 of 75 undecided."""
    from tests.fixtures_oversight import adjudicate, make_alert

    d = deployment_in_state("live", **plan)
    for i in range(decided + undecided):
        alert = make_alert(d, at=d.starts_at + timedelta(minutes=1), crop=False)
        if i < decided:
            adjudicate(alert, by=users.officer, true=True, outcome="arrest")
    services.lifecycle_tick(now=d.ends_at)
    d.refresh_from_db()
    return d


def test_undecided_alerts_are_counted_and_not_read_as_zero_false(
    client, deployment_in_state, users
):
    d = _undecided_world(deployment_in_state, users)
    (row,) = client.get("/transparency/deployments.json").json()
    assert (row["False Alert Rate"], row.get("Not adjudicated")) == ("0.00% of 3 adjudicated", 72)
    header = next(csv.reader(io.StringIO(client.get("/transparency/deployments.csv").text)))
    assert header[:16] == MET and "Not adjudicated" in header[16:]
    (year,) = selectors.yearly_summary()
    assert year["Not adjudicated"] == 72 and year["False Alert Rate"] == "0.00% of 3 adjudicated"
    assert d.reference in client.get("/transparency/").text


def test_a_record_is_provisional_until_reviewed_with_its_undecided_count(
    deployment_in_state, users
):
    d = _undecided_world(deployment_in_state, users, decided=1, undecided=2)
    (row,) = selectors.published_rows()
    assert row["Record Status"] == "provisional: not yet reviewed; 2 of 3 alerts not adjudicated"
    assert row["Not adjudicated share"] == "66.67%"
    services.record_review(deployment=d, by=users.command, review="Two missed.")
    (row,) = selectors.published_rows()
    assert row["Record Status"] == "reviewed, not yet signed off; 2 of 3 alerts not adjudicated"
    services.record_signoff(deployment=d, by=users.oversight)
    assert selectors.published_rows()[0]["Record Status"].startswith("signed off;")
    (year,) = selectors.yearly_summary()
    assert year["Provisional records"] == 0 and year["Not adjudicated share"] == "66.67%"


def test_a_record_with_nothing_decided_has_no_rate(deployment_in_state, users):
    _undecided_world(deployment_in_state, users, decided=0, undecided=41)
    (row,) = selectors.published_rows()
    assert (row["False Alert Rate"], row["Not adjudicated"]) == ("n/a (none adjudicated)", 41)


def test_it_publishes_the_reference_the_actual_times_and_the_thresholds_meaning(
    client, deployment_in_state, users
):
    d = deployment_in_state("live", starts_at=timezone.now() - timedelta(minutes=90))
    d = services.deployment_stop(deployment=d, by=users.command, reason="disorder")
    (row,) = client.get("/transparency/deployments.json").json()
    assert row["Deployment Reference"] == d.reference
    # ISO 8601 with the force's offset: one reading, whatever the reader's zone.
    assert row["Start Time"] == timezone.localtime(d.started_at).isoformat(timespec="minutes")
    assert row["End Time"] == timezone.localtime(d.ended_at).isoformat(timespec="minutes")
    assert datetime.fromisoformat(row["End Time"]).utcoffset() is not None
    assert d.ended_at < d.ends_at and row["Duration"] in ("1h 30m", "1h 31m")
    assert row["Min Threshold Setting"] == 0.5
    assert row["Threshold Meaning"] == "maximum face distance (0-1): lower is stricter"
    html = client.get("/transparency/").text
    assert "our number: maximum face distance (0-1): lower is stricter" in html
    assert "false alerts ÷ adjudicated alerts" in html and row["Start Time"] in html


def test_the_migration_mends_existing_records_from_their_own_counts(deployment_in_state, users):
    from importlib import import_module

    from django.apps import apps

    d = _undecided_world(deployment_in_state, users)
    stale = {**d.record.fields, "False Alert Rate": "0.00%"}  # as main published it
    type(d.record).objects.filter(pk=d.record.pk).update(fields=stale, not_adjudicated=0)
    import_module("deployments.migrations.0003_record_not_adjudicated").mend_records(apps, None)
    d.record.refresh_from_db()
    assert d.record.not_adjudicated == 72
    assert d.record.fields["False Alert Rate"] == "0.00% of 3 adjudicated"


# The page is public and read on phones: it must fit 390 px as well as 1280 px, with every
# published figure on screen rather than cut off at the right.
FITS = """() => {
  const right = [...document.querySelectorAll('[data-testid=record] dd, table')]
    .map(el => el.getBoundingClientRect().right);
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          cells: document.querySelectorAll('[data-testid=record] dd').length,
          widest: Math.max(0, ...right)};
}"""


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_the_public_page_fits_a_desktop_and_a_phone(
    live_server, deployment_in_state, users, monkeypatch, width
):
    from playwright.sync_api import sync_playwright

    from tests.helpers import SCREENSHOTS_DIR, launch_chromium

    first = _undecided_world(deployment_in_state, users, decided=3, undecided=72)
    _undecided_world(deployment_in_state, users, decided=0, undecided=41, starts_at=first.ends_at)
    deployment_in_state("authorised", starts_at=first.ends_at + timedelta(hours=5))
    # Playwright's sync API runs an event loop in this thread; the ORM work is done above.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(f"{live_server.url}/transparency/")
        page.screenshot(path=SCREENSHOTS_DIR / f"transparency-{width}.png", full_page=True)
        fits = page.evaluate(FITS)
        browser.close()
    assert fits["scroll"] <= fits["inner"], fits
    assert fits["widest"] <= fits["inner"], fits  # nothing cut off inside a scroll box
    assert fits["cells"] == 2 * (len(MET) + len(EXTRA)), fits
