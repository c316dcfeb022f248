import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from oversight import selectors
from recognition.models import Alert
from tests.fixtures_oversight import (
    EXPECTED,
    adjudicate,
    completed_deployment,
    make_alert,
    make_site,
)

PAGES = ["oversight:reports", "oversight:effectiveness", "oversight:equality"]


def _csv(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


# --- effectiveness figures --------------------------------------------------------------


def test_it_totals_every_deployment_that_ran(oversight_world):
    total = selectors.effectiveness(by="month")["total"]
    for key, value in EXPECTED["total"].items():
        assert total[key] == value, key


def test_it_counts_a_corrected_decision_by_its_correction(oversight_world):
    corrected = oversight_world.alerts[6]
    facts = selectors.alert_facts(Alert.objects.filter(pk=corrected.pk)).get()
    assert facts.eff_true is False and facts.eff_outcome == "no_action"
    # ... while time to decision runs to the first decision (2 minutes), not the correction.
    assert (facts.first_at - facts.created_at).total_seconds() == 120


@pytest.mark.parametrize("by", ["month", "use_case", "site"])
def test_it_groups_by_month_use_case_and_site(oversight_world, by):
    rows = {
        r["label"] if by == "site" else r["key"]: r for r in selectors.effectiveness(by=by)["rows"]
    }
    assert set(rows) == set(EXPECTED[by])
    for key, expected in EXPECTED[by].items():
        r = rows[key]
        got = (
            r["deployments"],
            r["alerts"],
            r["true_alerts"],
            r["false_alerts"],
            r["unadjudicated"],
        )
        assert got == expected[:5], key
        if by == "month":
            assert r["median_minutes_to_decision"] == expected[5]


def test_it_lists_each_deployment(oversight_world):
    rows = selectors.effectiveness(by="deployment")["rows"]
    assert [r["label"] for r in rows] == [
        "LFR-2607-01",
        "LFR-2607-02",
        "LFR-2608-01",
        "LFR-2609-01",
    ]
    d1 = rows[0]
    # 1 false of its 3 decided alerts (the fourth is undecided).
    assert (d1["alerts"], d1["faces_seen"], d1["false_alert_rate"]) == (4, 12000, 0.3333)


def test_it_filters_by_use_case_and_site(oversight_world):
    site = oversight_world.sites["Oxford Circus"][0]
    total = selectors.effectiveness(by="month", use_case="crime_hotspot", site_id=site.pk)["total"]
    assert (total["deployments"], total["alerts"]) == (1, 4)


def test_it_shows_effectiveness_with_charts_to_oversight(login, oversight_world):
    response = login(oversight_world.users.oversight).get(reverse("oversight:effectiveness"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<svg") == 3  # month, use case, site
    assert "44.44%" in body  # false alert rate: 4 false of 9 adjudicated alerts
    assert "LFR-2609-01" in body


def test_it_exports_each_chart_as_csv(login, oversight_world):
    client = login(oversight_world.users.oversight)
    response = client.get(reverse("oversight:effectiveness"), {"format": "csv", "by": "site"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = {r["label"]: r for r in _csv(response)}
    assert rows["Wembley"]["false_alerts"] == "2"
    assert rows["All deployments"]["alerts"] == "10"


def test_it_refuses_an_unknown_grouping(login, oversight_world):
    client = login(oversight_world.users.oversight)
    response = client.get(reverse("oversight:effectiveness"), {"format": "csv", "by": "camera"})
    assert response.status_code == 404


# --- accuracy ---------------------------------------------------------------------------


def test_it_charts_tpr_and_fpr_with_the_operating_point(login, users, evaluation_run):
    response = login(users.oversight).get(reverse("oversight:accuracy"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "operating point 0.5" in body
    assert "120 same-person and 480 different-person pairs" in body
    assert body.count("<polyline") == 2
    assert "76.00%" in body  # TPR at the operating point


def test_it_reads_runs_as_the_engine_stores_them(login, users):
    import numpy as np

    from recognition.engine.evaluation import rates
    from recognition.services.evaluation import evaluation_run_record

    distances = np.array([0.31, 0.42, 0.48, 0.55, 0.58, 0.66, 0.71, 0.80])
    same = np.array([True, True, True, True, False, False, False, False])
    result = {
        "pairs": 8,
        "thresholds": [rates(distances, same, t) for t in (0.4, 0.5, 0.6, 0.7)],
        "operating_point": rates(distances, same, 0.5),
        "no_face": [],
    }
    run = evaluation_run_record(dataset="eight pairs", result=result, operating_threshold=0.5)
    report = selectors.accuracy(run)
    assert [r["tpr"] for r in report["rows"]] == [0.25, 0.75, 1.0, 1.0]
    assert [r["fpr"] for r in report["rows"]] == [0.0, 0.0, 0.25, 0.5]
    assert report["operating_point"]["tpr"] == 0.75
    assert login(users.oversight).get(reverse("oversight:accuracy")).status_code == 200


def test_it_keeps_an_unknown_rate_unknown(users):
    from recognition.models import EvaluationRun

    run = EvaluationRun.objects.create(
        dataset="same-person pairs only", pairs=2, operating_threshold=0.5,
        thresholds=[{"threshold": 0.5, "tpr": 1.0, "fpr": None, "accuracy": 1.0}],
    )  # fmt: skip
    assert selectors.accuracy(run)["rows"][0]["fpr"] is None


def test_it_exports_the_threshold_rows(login, users, evaluation_run):
    response = login(users.oversight).get(reverse("oversight:accuracy"), {"format": "csv"})
    rows = _csv(response)
    assert len(rows) == 9
    assert rows[0]["threshold"] == "0.3"


def test_it_says_when_no_run_exists(login, users):
    response = login(users.oversight).get(reverse("oversight:accuracy"))
    assert b"No evaluation run" in response.content


# --- equality -----------------------------------------------------------------------------


def _seed_group(deployment, officer, group, n, false):
    for i in range(n):
        alert = make_alert(deployment, at=deployment.starts_at, crop=False)
        adjudicate(alert, by=officer, true=i >= false, group=group)


@pytest.fixture
def equality_world(users):
    """A clean, hand-countable set: Black 3 false of 40, White 2 of 60, Asian 1 of 5."""
    site, camera = make_site("Equality Street")
    d = completed_deployment(
        reference="LFR-EQ-01", site=site, camera=camera, use_case="crime_hotspot",
        starts_at=timezone.now() - timedelta(days=2), by=users.command,
    )  # fmt: skip
    _seed_group(d, users.officer, "Black", 40, 3)
    _seed_group(d, users.officer, "White", 60, 2)
    _seed_group(d, users.officer, "Asian", 5, 1)
    return SimpleNamespace(deployment=d, users=users)


def test_it_matches_a_hand_computed_wilson_interval():
    # 3 false of 40, z = 1.96: p = 0.075; z^2/n = 0.09604; denominator 1.09604;
    # centre = (0.075 + 0.04802) / 1.09604 = 0.11224;
    # half = 1.96 * sqrt(0.075 * 0.925 / 40 + 3.8416 / 6400) / 1.09604 = 0.08640
    low, high = selectors.wilson_interval(3, 40)
    assert (round(low, 4), round(high, 4)) == (0.0258, 0.1986)
    # Textbook values: 0 of 10 -> (0, 0.2775); 1 of 5 -> (0.0362, 0.6245).
    assert tuple(round(v, 4) for v in selectors.wilson_interval(0, 10)) == (0.0, 0.2775)
    assert tuple(round(v, 4) for v in selectors.wilson_interval(1, 5)) == (0.0362, 0.6245)


def test_it_reports_false_alerts_by_group_with_intervals(equality_world):
    rows = {r["group"]: r for r in selectors.equality()["rows"]}
    assert (rows["Black"]["alerts"], rows["Black"]["false_alerts"]) == (40, 3)
    assert rows["Black"]["rate"] == 0.075
    assert (rows["Black"]["ci_low"], rows["Black"]["ci_high"]) == (0.0258, 0.1986)
    assert rows["White"]["rate"] == round(2 / 60, 4)
    assert (rows["White"]["ci_low"], rows["White"]["ci_high"]) == (0.0092, 0.1136)
    assert not rows["Black"]["too_few"] and not rows["White"]["too_few"]
    assert (rows["Asian"]["rate"], rows["Asian"]["ci_low"], rows["Asian"]["ci_high"]) == (
        0.2,
        0.0362,
        0.6245,
    )
    assert rows["Asian"]["too_few"]  # n = 5 < 30
    assert rows["Mixed"]["alerts"] == 0


def test_it_limits_equality_to_a_period(login, equality_world):
    client = login(equality_world.users.oversight)
    response = client.get(reverse("oversight:equality"), {"until": "2026-01-31"})
    assert all(r["alerts"] == 0 for r in response.context["report"]["rows"])
    today = timezone.localdate().isoformat()
    response = client.get(reverse("oversight:equality"), {"since": "2026-01-01", "until": today})
    rows = {r["group"]: r for r in response.context["report"]["rows"]}
    assert rows["Black"]["alerts"] == 40


def test_it_says_overlapping_intervals_show_no_difference(equality_world):
    assert "no difference" in selectors.equality()["conclusion"]


def test_it_says_when_groups_differ_beyond_chance(equality_world):
    # 40 of 100: 0.40, CI 0.309-0.498 (narrower than 0.2), clear of White's 0.009-0.114.
    _seed_group(equality_world.deployment, equality_world.users.officer, "Mixed", 100, 40)
    conclusion = selectors.equality()["conclusion"]
    assert "differ beyond chance" in conclusion and "Mixed and White" in conclusion


def test_it_treats_a_wide_interval_as_too_few(equality_world):
    # 15 of 40: n >= 30 but the interval 0.242-0.530 is wider than 20 points.
    _seed_group(equality_world.deployment, equality_world.users.officer, "Mixed", 40, 15)
    rows = {r["group"]: r for r in selectors.equality()["rows"]}
    assert rows["Mixed"]["too_few"]


def test_it_says_plainly_when_too_few_to_conclude(oversight_world):
    report = selectors.equality()
    assert all(r["too_few"] for r in report["rows"])
    assert report["conclusion"].startswith("Too few")


def test_it_shows_the_equality_page_and_csv(login, equality_world):
    client = login(equality_world.users.oversight)
    body = client.get(reverse("oversight:equality")).content.decode()
    assert "too few to conclude" in body
    assert "2.6% – 19.9%" in body
    rows = {
        r["group"]: r for r in _csv(client.get(reverse("oversight:equality"), {"format": "csv"}))
    }
    assert rows["Black"]["ci_low"] == "0.0258"


# --- permissions --------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES + ["oversight:accuracy"])
def test_it_lets_oversight_read_every_report(login, oversight_world, evaluation_run, name):
    assert login(oversight_world.users.oversight).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", PAGES + ["oversight:accuracy"])
def test_it_hides_reports_from_officers(login, users, name):
    assert login(users.officer).get(reverse(name)).status_code == 404


def test_it_lets_command_staff_read_effectiveness_but_not_accuracy(login, users):
    client = login(users.command)
    assert client.get(reverse("oversight:effectiveness")).status_code == 200
    assert client.get(reverse("oversight:accuracy")).status_code == 404


@pytest.mark.parametrize("name", PAGES + ["oversight:accuracy"])
def test_it_refuses_posts_to_report_pages(login, users, name):
    assert login(users.oversight).post(reverse(name)).status_code == 405


def test_it_lists_only_the_reports_a_user_may_read(login, users):
    body = login(users.command).get(reverse("oversight:reports")).content.decode()
    assert reverse("oversight:effectiveness") in body
    assert reverse("oversight:accuracy") not in body
    assert reverse("oversight:audit") not in body


def test_it_redirects_anonymous_users_to_login(client, db):
    response = client.get(reverse("oversight:effectiveness"))
    assert response.status_code == 302
