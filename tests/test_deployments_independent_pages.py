"""The independent-authorisation page, form and API endpoint; the assessments page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments.models import IndependentAuthorisation
from tests.test_deployments_independent import COURT

API = "/api/v1/deployments/"


@pytest.fixture
def needs_it(settings, deployment_in_state):
    settings.LFR_INDEPENDENT_AUTHORISATION = "always"
    settings.LFR_INDEPENDENT_AUTHORITIES = [COURT]
    return deployment_in_state("authorised")


def form(**extra):
    decided = timezone.localtime() - timedelta(hours=1)
    values = {
        "authority": COURT,
        "reference": "DJ-7",
        "decided_at": decided.strftime("%Y-%m-%dT%H:%M"),
        "outcome": "granted",
        "scope_window": "the authorised window",
        "scope_place": "Oxford Circus",
        "scope_targets": "wanted persons",
        "conditions": "",
    }
    values.update(extra)
    return values


def test_the_detail_page_links_it_and_names_the_blocker(login, users, needs_it):
    page = login(users.command).get(reverse("deployments:detail", args=[needs_it.pk]))
    assert reverse("deployments:independent", args=[needs_it.pk]) in page.content.decode()
    assert "no independent prior authorisation" in page.content.decode()


def test_the_authoriser_records_a_grant_on_the_page(login, users, needs_it):
    client = login(users.authoriser)
    url = reverse("deployments:independent_record", args=[needs_it.pk])
    response = client.post(url, form())
    assert response.status_code == 302
    decision = IndependentAuthorisation.objects.get()
    assert decision.outcome == "granted" and decision.recorded_by == users.authoriser
    page = client.get(reverse("deployments:independent", args=[needs_it.pk])).content.decode()
    assert "DJ-7" in page and "In force" in page


def test_a_grant_without_its_scope_is_shown_again_with_the_message(login, users, needs_it):
    url = reverse("deployments:independent_record", args=[needs_it.pk])
    response = login(users.command).post(url, form(scope_targets=""))
    assert response.status_code == 400
    assert "targeted persons" in response.content.decode()
    assert not IndependentAuthorisation.objects.exists()


def test_oversight_reads_the_page_without_the_form_and_may_not_post(login, users, needs_it):
    client = login(users.oversight)
    page = client.get(reverse("deployments:independent", args=[needs_it.pk]))
    assert page.status_code == 200 and "Record decision" not in page.content.decode()
    url = reverse("deployments:independent_record", args=[needs_it.pk])
    assert client.post(url, form()).status_code == 403


def test_an_outsider_gets_404(login, users, needs_it):
    client = login(users.nobody)
    assert client.get(reverse("deployments:independent", args=[needs_it.pk])).status_code == 404


def test_the_api_records_a_decision(login, users, needs_it):
    body = {**form(), "decided_at": (timezone.now() - timedelta(hours=1)).isoformat()}
    response = login(users.authoriser).post(
        f"{API}{needs_it.pk}/independent-authorisation/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["outcome"] == "granted"
    assert response.json()["recorded_by"] == users.authoriser.username


def test_the_api_refuses_an_officer_and_an_unknown_authority(login, users, needs_it):
    needs_it.officers.add(users.officer)
    url = f"{API}{needs_it.pk}/independent-authorisation/"
    body = {**form(), "decided_at": (timezone.now() - timedelta(hours=1)).isoformat()}
    assert login(users.officer).post(url, body, content_type="application/json").status_code == 403
    response = login(users.command).post(
        url, {**body, "authority": "Nobody"}, content_type="application/json"
    )
    assert response.status_code == 400 and "must be one of" in str(response.json())


def test_the_page_says_so_when_the_force_does_not_require_a_decision(
    login, users, deployment_in_state
):
    # LFR_INDEPENDENT_AUTHORISATION=never (the default): the page must not claim it "needs" one.
    deployment = deployment_in_state("authorised")
    page = login(users.command).get(reverse("deployments:independent", args=[deployment.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "This deployment needs" not in html
    assert "does not need" in html


def test_the_page_says_a_decision_is_needed_when_it_is(login, users, needs_it):
    page = login(users.command).get(reverse("deployments:independent", args=[needs_it.pk]))
    assert "This deployment needs the prior decision" in page.content.decode()
