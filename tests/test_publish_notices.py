"""Issue 16.4-5: the notice of each use to the authorities (EU AI Act Art. 5(4)) and the
advance public notice, with the authorising officer's audited decision to withhold it."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from deployments import selectors, services
from deployments.models import Deployment
from tests.fixtures_deployments import make_entry

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
ICO = "Information Commissioner's Office"


@pytest.fixture
def authorised(deployment_in_state, users):
    """An authorised deployment with a frozen watchlist of two real entries."""
    entries = [make_entry(users.contributor, users.manager) for _ in range(2)]
    d = deployment_in_state("authorised")
    d.officers.add(users.officer)
    return d, entries


def _walk(value):
    """Every string and number anywhere in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value


def test_it_leaves_watchlist_and_subjects_out_of_the_notice(client, login, users, authorised):
    d, entries = authorised
    login(users.command)
    body = client.get(reverse("deployments:notice_json", args=[d.pk])).json()
    everything = [str(v) for v in _walk(body)]
    secrets = [
        *(e.subject.reference for e in entries),
        *(e.subject.display_name for e in entries),
        *(e.case_reference for e in entries),
        d.necessity,
        d.proportionality,
        d.location_rationale,
        *(c.stream_url for c in d.cameras.all()),
    ]
    for secret in secrets:
        assert not any(secret in v for v in everything), secret
    assert users.officer.get_username() not in everything  # a short name: compared whole
    assert not {"entry_ids", "subject_references", "encodings", "officers"} & set(body)
    assert body["deployment_reference"] == d.reference
    assert body["watchlist_size"] == 2 and body["watchlist_categories"] == ["wanted"]
    assert body["authorisation"]["authorised_by"]
    for moment in (*body["authorised_window"].values(), body["generated_at"]):
        assert ISO_WITH_OFFSET.match(moment), moment


def test_it_records_who_sent_the_notice_to_whom(client, login, users, authorised):
    d, _ = authorised
    login(users.authoriser)
    url = reverse("deployments:notice_sent", args=[d.pk])
    response = client.post(url, {"authority": ICO, "reference": "ICO case 123"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="deployment.notice_sent")
    assert event.actor_username == users.authoriser.get_username()
    assert event.object_id == str(d.pk) and event.at is not None
    assert event.details["authority"] == ICO
    assert event.details["authority_kind"] == "data_protection"
    assert event.details["reference"] == "ICO case 123"
    assert len(event.details["notice_sha256"]) == 64
    (sent,) = selectors.notices_sent(d)
    assert sent["sent_by"] == users.authoriser.get_username() and sent["authority"] == ICO
    assert ISO_WITH_OFFSET.match(sent["sent_at"])
    page = client.get(reverse("deployments:notice", args=[d.pk])).content.decode()
    assert "ICO case 123" in page and "Record as sent" in page


def test_it_refuses_an_authority_that_is_not_configured(client, login, users, authorised):
    d, _ = authorised
    login(users.command)
    url = reverse("deployments:notice_sent", args=[d.pk])
    assert client.post(url, {"authority": "Someone else"}).status_code == 400
    assert not AuditEvent.objects.filter(action="deployment.notice_sent").exists()


def test_it_takes_the_authorities_from_the_settings(client, login, users, authorised, settings):
    d, _ = authorised
    settings.LFR_NOTICE_AUTHORITIES = [("data_protection", "Datatilsynet")]
    login(users.command)
    url = reverse("deployments:notice_sent", args=[d.pk])
    assert client.post(url, {"authority": ICO}).status_code == 400
    assert client.post(url, {"authority": "Datatilsynet"}).status_code == 302


def test_it_does_not_notify_a_use_before_it_is_authorised(users, deployment_in_state):
    d = deployment_in_state("submitted")
    with pytest.raises(Exception, match="authorised"):
        services.use_notice_send(deployment=d, by=users.command, authority=ICO)


def test_oversight_reads_the_notice_but_does_not_send_it(client, login, users, authorised):
    d, _ = authorised
    login(users.oversight)
    assert client.get(reverse("deployments:notice", args=[d.pk])).status_code == 200
    url = reverse("deployments:notice_sent", args=[d.pk])
    assert client.post(url, {"authority": ICO}).status_code == 403


def test_an_officer_does_not_see_the_notice(client, login, users, authorised):
    d, _ = authorised
    login(users.officer)
    assert client.get(reverse("deployments:notice", args=[d.pk])).status_code == 403


# --- advance public notice --------------------------------------------------------------


def test_the_upcoming_list_honours_the_lead_time(deployment_in_state, settings):
    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 7
    d = deployment_in_state("authorised")
    too_early = d.starts_at - timedelta(days=7, minutes=1)
    assert d not in selectors.upcoming_notices(now=too_early)
    assert d in selectors.upcoming_notices(now=d.starts_at - timedelta(days=7))
    assert d in selectors.upcoming_notices(now=d.starts_at + timedelta(minutes=1))
    assert d not in selectors.upcoming_notices(now=d.ends_at)


def test_the_page_shows_place_date_and_use_case_of_an_upcoming_one(
    client, deployment_in_state, settings
):
    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 14  # next Monday is within it, whatever today is
    d = deployment_in_state("authorised")
    html = client.get(reverse("transparency:notices")).content.decode()
    assert f'id="{d.reference}"' in html and d.site.name in html
    assert "Crime hotspot" in html
    assert d.necessity not in html and "DPIA-2026-01" not in html


def test_the_authoriser_withholds_notice_with_a_reason_that_is_audited(
    client, login, users, deployment_in_state, settings
):
    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 14
    d = deployment_in_state("authorised")
    assert d in selectors.upcoming_notices()
    login(users.authoriser)
    url = reverse("deployments:public_notice", args=[d.pk])
    reason = "Announcing it would defeat a specific intelligence operation"
    assert client.post(url, {"publish": "no", "reason": reason}).status_code == 302
    d.refresh_from_db()
    assert d.public_notice is False and d.no_notice_reason == reason
    event = AuditEvent.objects.get(action="deployment.notice_withheld")
    assert event.actor_username == users.authoriser.get_username()
    assert event.details["reason"] == reason
    assert d not in selectors.upcoming_notices()
    public = client.get(reverse("transparency:notices")).content.decode()
    public += client.get(reverse("transparency:index")).content.decode()
    assert reason not in public and d.reference not in public


def test_withholding_notice_needs_a_reason(client, login, users, deployment_in_state):
    d = deployment_in_state("authorised")
    login(users.authoriser)
    url = reverse("deployments:public_notice", args=[d.pk])
    assert client.post(url, {"publish": "no", "reason": " "}).status_code == 400
    d.refresh_from_db()
    assert d.public_notice is True
    assert not AuditEvent.objects.filter(action="deployment.notice_withheld").exists()


def test_the_requester_cannot_withhold_notice(client, login, users, deployment_in_state):
    d = deployment_in_state("authorised")
    login(users.command)
    url = reverse("deployments:public_notice", args=[d.pk])
    assert client.post(url, {"publish": "no", "reason": "quietly"}).status_code == 403


def test_notice_is_decided_before_the_start(users, deployment_in_state):
    d = deployment_in_state("live")
    with pytest.raises(Exception, match="before the deployment starts"):
        services.deployment_notice_decide(
            deployment=d, by=users.authoriser, publish=False, reason="too late"
        )


def test_the_record_links_back_to_its_notice(client, deployment_in_state, users):
    shown = deployment_in_state("completed")
    row = selectors.published_row(shown.record)
    assert row["Advance Notice Page"] == f"/transparency/notices/#{shown.reference}"
    html = client.get(reverse("transparency:notices")).content.decode()
    assert f'id="{shown.reference}"' in html
    index = client.get(reverse("transparency:index")).content.decode()
    assert f'href="/transparency/notices/#{shown.reference}"' in index


def test_a_withheld_notice_is_said_on_the_record_without_its_reason(deployment_in_state):
    d = deployment_in_state(
        "completed",
        public_notice=False,
        no_notice_reason="covert operation against a named gang",
    )
    row = selectors.published_row(d.record)
    assert row["Advance Notice"].startswith("withheld")
    assert "gang" not in json.dumps(row)
    assert Deployment.objects.get(pk=d.pk) not in selectors.past_notices()


def test_it_reads_the_authorities_from_the_environment(monkeypatch):
    from lfr_site.env import env_authorities

    monkeypatch.setenv("X_AUTH", "data_protection:Datatilsynet, Norway; market_surveillance:Nkom")
    assert env_authorities("X_AUTH", []) == [
        ("data_protection", "Datatilsynet, Norway"),
        ("market_surveillance", "Nkom"),
    ]


def test_it_refuses_an_authority_of_an_unknown_kind(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from lfr_site.env import env_authorities

    monkeypatch.setenv("X_AUTH", "police:Ourselves")
    with pytest.raises(ImproperlyConfigured, match="X_AUTH"):
        env_authorities("X_AUTH", [])


# --- honest notices (issue 26) ------------------------------------------------------------


@pytest.fixture
def soon(deployment_in_state, settings):
    """Submitted three minutes before its start, with advance notice ticked, lead 7 days."""
    from django.utils import timezone

    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 7
    return deployment_in_state("submitted", starts_at=timezone.now() + timedelta(minutes=3))


def test_it_refuses_to_authorise_inside_the_lead_without_a_reason(soon, users):
    with pytest.raises(Exception, match="advance public notice"):
        services.deployment_authorise(deployment=soon, by=users.authoriser)
    soon.refresh_from_db()
    assert soon.state == "submitted"


def test_it_warns_the_authoriser_on_the_screen(client, login, users, soon):
    login(users.authoriser)
    page = client.get(reverse("deployments:authorise", args=[soon.pk])).content.decode()
    assert 'data-testid="short-notice"' in page and "7-day advance public notice" in page
    response = client.post(reverse("deployments:authorise", args=[soon.pk]), {"authorise": "1"})
    soon.refresh_from_db()
    assert soon.state == "submitted" and response.status_code in {200, 302}


def test_it_keeps_and_audits_why_no_advance_notice_was_given(client, login, users, soon):
    login(users.authoriser)
    reason = "Credible threat to the march reported this morning"
    url = reverse("deployments:authorise", args=[soon.pk])
    client.post(url, {"authorise": "1", "short_notice_reason": reason})
    soon.refresh_from_db()
    assert soon.state == "authorised" and soon.no_notice_reason == reason
    event = AuditEvent.objects.get(action="deployment.authorise")
    assert event.details["short_notice"]["reason"] == reason
    assert event.details["short_notice"]["lead_days"] == 7


def test_the_record_states_the_actual_lead_time(deployment_in_state, settings):
    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 7
    d = deployment_in_state("completed")
    Deployment.objects.filter(pk=d.pk).update(authorised_at=d.starts_at - timedelta(minutes=3))
    d.refresh_from_db()
    row = selectors.published_row(d.record)
    assert row["Advance Notice"].startswith("3 minutes before the start")
    assert "7 days" in row["Advance Notice"]
    assert row["Advance Notice Page"] == f"/transparency/notices/#{d.reference}"


def test_a_full_lead_is_stated_as_given(deployment_in_state, settings):
    settings.LFR_PUBLIC_NOTICE_LEAD_DAYS = 7
    d = deployment_in_state("completed")
    Deployment.objects.filter(pk=d.pk).update(authorised_at=d.starts_at - timedelta(days=20))
    d.refresh_from_db()
    assert selectors.published_row(d.record)["Advance Notice"] == "7 days before the start"


def test_the_api_asks_why_too(login, users, soon):
    client = login(users.authoriser)
    url = f"/api/v1/deployments/{soon.pk}/authorise/"
    body = {"seen_updated_at": soon.updated_at.isoformat()}
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 400 and "advance public notice" in str(refused.json())
    body["short_notice_reason"] = "Credible threat reported this morning"
    done = client.post(url, body, content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == "authorised"
