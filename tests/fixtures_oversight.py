"""Shared pytest fixtures for this area (registered in tests/conftest.py).

`oversight_world` seeds a realistic, hand-countable history straight through the models:
four deployments over three months at three sites and three use cases (plus a cancelled
one that must not count), ten alerts with decisions, one of them corrected. The figures
the tests expect are worked out in EXPECTED below, by hand, from the table.
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone

from deployments.models import Camera, Deployment, Site
from recognition.models import Adjudication, Alert, EvaluationRun
from tests import factories
from tests.factories import make_deployment
from tests.helpers import faces


def crop_bytes() -> bytes:
    return faces("examples", "obama_small.jpg").read_bytes()


def make_site(name):
    site = Site.objects.create(name=name, address=f"{name}, London")
    camera = Camera.objects.create(
        name=f"{name} cam", stream_url="file://demo.mp4", site=site, enabled=True
    )
    return site, camera


def completed_deployment(
    *, reference, site, camera, use_case, starts_at, hours=6, faces_seen=0, by, state=None
):
    """A deployment that ran its whole window (or ended in `state`), as the reports see it."""
    state = state or Deployment.State.COMPLETED
    ran = state in (Deployment.State.LIVE, Deployment.State.COMPLETED)
    ends_at = starts_at + timedelta(hours=hours)
    return make_deployment(
        reference=reference,
        use_case=use_case,
        site=site,
        cameras=[camera],
        starts_at=starts_at,
        ends_at=ends_at,
        necessity="Seeded for oversight tests.",
        proportionality="Seeded.",
        location_rationale="Seeded.",
        max_watchlist_size=1000,
        requested_by=by,
        state=state,
        started_at=starts_at if ran else None,
        ended_at=ends_at if state == Deployment.State.COMPLETED else None,
        faces_seen=faces_seen,
    )


def make_alert(deployment, *, at, subject="S-0001", crop=True, camera=None):
    """An alert raised through alert_raise at frame time `at`; crop=False: its crop purged."""
    alert = factories.make_alert(
        deployment, subject=subject, camera=camera, frame_at=at, crop=crop_bytes()
    )
    changes = {"created_at": at}  # auto_now_add otherwise
    if not crop:
        changes["crop"] = None
    Alert.objects.filter(pk=alert.pk).update(**changes)
    alert.refresh_from_db()
    deployment.last_alert_seq = alert.changed_seq
    return alert


def adjudicate(
    alert, *, by, true, confirmed=True, outcome="no_action", group="", after=1, corrects=None
):
    adj = Adjudication.objects.create(
        alert=alert,
        by=by,
        is_true_match=true,
        confirmed=confirmed,
        outcome=outcome,
        perceived_group=group,
        corrects=corrects,
    )
    at = alert.created_at + timedelta(minutes=after)
    Adjudication.objects.filter(pk=adj.pk).update(at=at)
    adj.at = at
    return adj


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


# (deployment, minutes after its start, decisions [(true, confirmed, outcome, group,
# minutes after the alert)]); a second decision is a correction of the first.
ALERTS = [
    ("D1", 10, [(True, True, "arrest", "White", 2)]),
    ("D1", 20, [(True, True, "other", "Black", 4)]),
    ("D1", 30, [(False, True, "no_action", "Black", 1)]),
    ("D1", 40, []),
    ("D2", 10, [(True, False, "no_action", "Asian", 3)]),
    ("D2", 20, [(False, True, "no_action", "White", 6)]),
    ("D2", 30, [(True, True, "arrest", "Black", 2), (False, True, "no_action", "Black", 30)]),
    ("D3", 10, [(True, True, "arrest", "", 5)]),
    ("D3", 20, [(False, False, "no_action", "Mixed", 10)]),
    ("D4", 10, [(True, True, "other", "White", 8)]),
]

# Worked by hand from ALERTS. True: 1, 2, 5, 8, 10; false: 3, 6, 7 (corrected), 9;
# undecided: 4. First-decision minutes 1, 2, 2, 3, 4, 5, 6, 8, 10 -> median 4.
EXPECTED = {
    "total": {
        "deployments": 4,
        "faces_seen": 55000,
        "alerts": 10,
        "true_alerts": 5,
        "true_confirmed": 4,
        "true_unconfirmed": 1,
        "false_alerts": 4,
        "false_confirmed": 3,
        "false_unconfirmed": 1,
        "unadjudicated": 1,
        "false_alert_rate": 0.4444,  # 4 false of 9 adjudicated (10 alerts, 1 undecided)
        "median_minutes_to_decision": 4.0,
        "outcome_arrest": 2,
        "outcome_other": 2,
        "outcome_no_action": 5,
    },
    # month -> (deployments, alerts, true, false, undecided, median minutes)
    "month": {
        "2026-07": (2, 7, 3, 3, 1, 2.5),
        "2026-08": (1, 2, 1, 1, 0, 7.5),
        "2026-09": (1, 1, 1, 0, 0, 8.0),
    },
    "use_case": {
        "crime_hotspot": (2, 6, 3, 2, 1),
        "event_protection": (1, 3, 1, 2, 0),
        "missing_persons": (1, 1, 1, 0, 0),
    },
    "site": {
        "Oxford Circus": (2, 5, 3, 1, 1),
        "Wembley": (1, 3, 1, 2, 0),
        "Croydon": (1, 2, 1, 1, 0),
    },
}


@pytest.fixture
def oversight_world(users):
    sites = {n: make_site(n) for n in ("Oxford Circus", "Wembley", "Croydon")}
    plan = {
        "D1": ("LFR-2607-01", "Oxford Circus", "crime_hotspot", _utc(2026, 7, 10, 10), 12000),
        "D2": ("LFR-2607-02", "Wembley", "event_protection", _utc(2026, 7, 24, 14), 30000),
        "D3": ("LFR-2608-01", "Croydon", "crime_hotspot", _utc(2026, 8, 14, 10), 8000),
        "D4": ("LFR-2609-01", "Oxford Circus", "missing_persons", _utc(2026, 9, 5, 9), 5000),
    }
    deployments = {}
    for key, (ref, site, use_case, start, seen) in plan.items():
        site_obj, camera = sites[site]
        deployments[key] = completed_deployment(
            reference=ref, site=site_obj, camera=camera, use_case=use_case, starts_at=start,
            faces_seen=seen, by=users.command,
        )  # fmt: skip
    site_obj, camera = sites["Croydon"]
    completed_deployment(
        reference="LFR-2609-99", site=site_obj, camera=camera, use_case="crime_hotspot",
        starts_at=_utc(2026, 9, 20, 9), by=users.command, state=Deployment.State.CANCELLED,
    )  # fmt: skip
    alerts = []
    for i, (key, minutes, decisions) in enumerate(ALERTS):
        d = deployments[key]
        alert = make_alert(
            d, at=d.starts_at + timedelta(minutes=minutes), subject=f"S-{i % 3 + 1:04d}"
        )
        previous = None
        for true, confirmed, outcome, group, after in decisions:
            previous = adjudicate(
                alert, by=users.officer, true=true, confirmed=confirmed, outcome=outcome,
                group=group, after=after, corrects=previous,
            )  # fmt: skip
        alerts.append(alert)
    return SimpleNamespace(sites=sites, deployments=deployments, alerts=alerts, users=users)


@pytest.fixture
def evaluation_run(db):
    """An evaluation run shaped as `evaluate_pairs` stores it (thresholds 0.30 .. 0.70)."""
    rows = []
    for i in range(9):
        t = round(0.30 + 0.05 * i, 2)
        rows.append(
            {
                "threshold": t,
                "tpr": round(min(1.0, 0.40 + 0.09 * i), 4),
                "fpr": round(max(0.0, (t - 0.45) * 0.4) if t > 0.45 else 0.0, 4),
                "accuracy": 0.9,
            }
        )
    return EvaluationRun.objects.create(
        dataset="face_recognition examples: 120 same-person and 480 different-person pairs",
        pairs=600,
        operating_threshold=0.5,
        thresholds=rows,
        operating_point={"threshold": 0.5, "tpr": 0.76, "fpr": 0.02, "accuracy": 0.9},
        no_face=["two_people.jpg"],
    )


@pytest.fixture
def fresh_cache():
    """The audit chain's verification result is cached; each test starts without one."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def live_deployment(users):
    """A deployment running now (for 'within hours' audit patterns)."""
    site, camera = make_site("Live Square")
    now = timezone.now()
    d = completed_deployment(
        reference="LFR-LIVE-01", site=site, camera=camera, use_case="crime_hotspot",
        starts_at=now - timedelta(hours=1), hours=4, by=users.command,
        state=Deployment.State.LIVE,
    )  # fmt: skip
    d.officers.add(users.officer)
    return d
