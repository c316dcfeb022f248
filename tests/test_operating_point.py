"""The operating point per deployment: what a threshold means at the authorised watchlist
size, the force's false-alert policy, and the authorisation gate that applies it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditEvent
from deployments import services
from recognition.models import EvaluationRun
from recognition.selectors import operating_point

API = "/api/v1/deployments/"


@pytest.fixture
def policy(settings):
    """1 passer-by in 100: with the default calibration (0 false matches in 11,564
    comparisons at 0.507) it supports up to ~38 entries."""
    settings.LFR_MAX_FALSE_ALERT_RATE = 0.01
    return settings


def test_it_uses_the_default_calibration_when_no_run_is_stored_and_says_so(db):
    point = operating_point(watchlist_size=10, threshold=0.507)
    assert point["run_id"] is None and "default calibration" in point["words"]
    assert point["fpir_bound"] == pytest.approx(1 - (1 - 2.5902e-4) ** 10, rel=1e-3)
    assert (point["policy"], point["supported"]) == (None, None)  # no policy: nothing refused


def test_it_chooses_the_loosest_threshold_the_policy_allows(policy, db):
    assert operating_point(watchlist_size=10)["policy_threshold"] == 0.507
    point = operating_point(watchlist_size=1_000)
    assert (point["supported"], point["policy_threshold"]) == (False, None)
    assert "cannot be met at this size" in point["words"]


def test_it_reads_the_latest_stored_run_in_words(policy, db):
    rows = [
        {"threshold": 0.45, "tpir": 0.81, "fmr_upper": 1e-7},
        {"threshold": 0.48, "tpir": 0.90, "fmr_upper": 3e-6},
        {"threshold": 0.52, "tpir": 0.95, "fmr_upper": 1e-4},
    ]
    run = EvaluationRun.objects.create(
        kind="identification", dataset="d", pairs=1, operating_threshold=0.48,
        thresholds=rows, summary={"identities": 1_900},
    )  # fmt: skip
    point = operating_point(watchlist_size=2_000)
    assert (point["threshold"], point["tpir"], point["run_id"]) == (0.48, 0.90, run.pk)
    assert point["words"].startswith(
        "At 2,000 entries and threshold 0.48: at most 1 false alert per 170 faces "
        f"(95 % bound, from evaluation run {run.pk} on 1,900 people); "
        "about 90% of watchlisted people recognised."
    )


def test_it_refuses_to_authorise_a_watchlist_size_the_policy_cannot_support(
    policy, users, deployment_in_state
):
    d = deployment_in_state("submitted", max_watchlist_size=1_000, threshold=0.5)
    with pytest.raises(ValidationError, match="cannot support a watchlist of 1,000 entries"):
        services.deployment_authorise(deployment=d, by=users.authoriser)
    d.refresh_from_db()
    assert d.state == "submitted"


def test_it_authorises_a_size_the_policy_supports_and_records_the_point(
    policy, users, deployment_in_state
):
    d = deployment_in_state("authorised", max_watchlist_size=10, threshold=0.5)
    event = AuditEvent.objects.get(action="deployment.authorise")
    recorded = event.details["operating_point"]
    assert (d.state, recorded["threshold"], recorded["policy_threshold"]) == (
        "authorised", 0.5, 0.507,
    )  # fmt: skip


def test_it_needs_a_recorded_reason_to_authorise_looser_than_the_policy(
    policy, users, deployment_in_state
):
    d = deployment_in_state("submitted", max_watchlist_size=10, threshold=0.55)
    with pytest.raises(ValidationError, match="looser than the false-alert policy allows"):
        services.deployment_authorise(deployment=d, by=users.authoriser)
    services.deployment_authorise(
        deployment=d, by=users.authoriser, policy_reason="Missing child: recall first."
    )
    event = AuditEvent.objects.get(action="deployment.authorise")
    assert event.details["operating_point"]["policy_reason"] == "Missing child: recall first."


def test_it_lets_the_authoriser_tighten_into_the_policy(policy, users, deployment_in_state):
    d = deployment_in_state("submitted", max_watchlist_size=10, threshold=0.55)
    d = services.deployment_authorise(deployment=d, by=users.authoriser, threshold=0.5)
    assert (d.state, d.threshold) == ("authorised", 0.5)


def test_it_authorises_any_size_when_no_policy_is_set(users, deployment_in_state):
    d = deployment_in_state("authorised", max_watchlist_size=16_000)
    assert d.state == "authorised"


def test_it_shows_the_gate_refusing_on_the_authorisation_screen(
    policy, login, users, deployment_in_state, next_monday
):
    small = deployment_in_state("submitted", max_watchlist_size=10, threshold=0.5)
    large = deployment_in_state(
        "submitted",
        max_watchlist_size=16_000,
        threshold=0.5,
        starts_at=next_monday + timedelta(days=1, hours=10),
    )
    client = login(users.authoriser)
    page = client.get(reverse("deployments:authorise", args=[small.pk])).content.decode()
    assert "Within the force's false-alert policy at this size." in page
    assert "≤ 2.59" in page  # false alerts per 1,000 passers-by, 95 % bound
    page = client.get(reverse("deployments:authorise", args=[large.pk])).content.decode()
    assert "Authorisation will be refused" in page and "≤ 984" in page


def test_it_gives_the_operating_point_through_the_api(policy, login, users, deployment_in_state):
    d = deployment_in_state("submitted", max_watchlist_size=1_000, threshold=0.5)
    client = login(users.authoriser)
    body = client.get(f"{API}{d.pk}/authorisation/").json()
    assert body["operating_point"]["supported"] is False
    assert body["operating_point"]["words"].startswith("At 1,000 entries and threshold 0.5:")
    response = client.post(
        f"{API}{d.pk}/authorise/",
        {"seen_updated_at": body["deployment"]["updated_at"]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "cannot support" in str(response.json())


def test_it_publishes_the_threshold_and_the_expected_rate_authorised(policy, deployment_in_state):
    from deployments import selectors

    deployment_in_state("completed", max_watchlist_size=10, threshold=0.5)
    row = selectors.published_rows()[0]
    assert row["Min Threshold Setting"] == 0.5
    assert row["Expected False Alert Rate"].startswith(
        "at most 1 in 387 passers-by at threshold 0.5 and 10 entries (95 % bound, from the "
        "default calibration"
    )


def test_it_refuses_a_retrospective_authority_the_policy_cannot_support(
    policy, users, deployment_in_state
):
    policy.LFR_URGENT_MODE = True
    d = deployment_in_state("submitted", urgent=True, max_watchlist_size=1_000, threshold=0.5)
    services.lifecycle_tick(now=d.starts_at)
    d.refresh_from_db()
    assert d.state == "live" and d.authorised_at is None
    with pytest.raises(ValidationError, match="cannot support a watchlist of 1,000 entries"):
        services.deployment_authorise(deployment=d, by=users.authoriser, reason="confirmed")
    d.refresh_from_db()
    assert d.authorised_at is None  # it lapses at its deadline, as any unauthorised start
