"""Issue 14.7: malformed input is refused with a 400 (or 404) and a clear message, never
a server error: out-of-range ISO weeks, NUL bytes anywhere, non-numeric ids, deep JSON,
texts and numbers beyond their columns, and implausible dates, places and thresholds."""

import json

import pytest
from django.test import Client

from deployments.models import Camera, Deployment, Site
from tests.fixtures_console import make_alert
from tests.helpers import sign_in

API = "/api/v1/deployments/"


@pytest.fixture
def quiet(users):
    """A client that answers a server error with its 500 instead of raising it."""

    def _as(user):
        client = Client(raise_request_exception=False)
        sign_in(client, user)
        return client

    return _as


def _json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def _plan_body(plan, **changes):
    p = plan()
    body = {
        **{k: v for k, v in p.items() if k not in ("site", "cameras")},
        "site": p["site"].pk,
        "cameras": [c.pk for c in p["cameras"]],
        "starts_at": p["starts_at"].isoformat(),
        "ends_at": p["ends_at"].isoformat(),
    }
    body.update(changes)
    return body


# --- ISO weeks ----------------------------------------------------------------------


@pytest.mark.parametrize("week", ["9999-W52", "0001-W01", "10000-W01"])
@pytest.mark.parametrize("url", ["/deployments/", f"{API}calendar/"])
def test_it_refuses_a_week_out_of_range(quiet, users, url, week):
    response = quiet(users.command).get(url, {"week": week})
    assert response.status_code == 400
    assert b"ISO week" in response.content


def test_it_still_shows_a_plain_week(quiet, users):
    assert quiet(users.command).get(f"{API}calendar/", {"week": "2026-W49"}).status_code == 200


# --- NUL bytes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/watchlists/?q=a%00b",
        "/api/v1/watchlist/entries/?q=a%00b",
        "/watchlists/images/1/?purpose=case%00OP-1",
        "/watchlists/subjects/1/?purpose=case%00OP-1",
        "/oversight/subjects/S%00X/",
    ],
)
def test_it_refuses_nul_bytes_in_the_url(quiet, users, url):
    response = quiet(users.oversight).get(url)
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_it_refuses_nul_bytes_in_a_reason(quiet, users, pending_entry):
    response = quiet(users.manager).post(
        f"/watchlists/entries/{pending_entry.pk}/approve/", {"reason": "Checked\x00"}
    )
    assert response.status_code == 400
    assert b"NUL" in response.content
    pending_entry.refresh_from_db()
    assert pending_entry.state == "pending"


def test_it_refuses_nul_bytes_in_a_decision_note(quiet, users, console_deployment):
    alert = make_alert(console_deployment, nudge=False)
    response = quiet(users.officer).post(
        f"/recognition/alerts/{alert.pk}/adjudicate/",
        {"is_true_match": "1", "confirmed": "1", "outcome": "no_action", "note": "x\x00"},
    )
    assert response.status_code == 400
    assert not alert.adjudications.exists()


def test_it_refuses_nul_bytes_in_json_text(quiet, users, pending_entry):
    response = _json(
        quiet(users.manager),
        f"/api/v1/watchlist/entries/{pending_entry.pk}/approve/",
        {"reason": "ok\x00"},
    )
    assert response.status_code == 400


# --- ids and JSON -----------------------------------------------------------------------


def test_it_refuses_a_correction_of_a_non_number(quiet, users, console_deployment):
    alert = make_alert(console_deployment, nudge=False)
    response = quiet(users.officer).post(
        f"/recognition/alerts/{alert.pk}/adjudicate/",
        {"is_true_match": "0", "confirmed": "1", "outcome": "no_action", "corrects": "abc"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert "corrects" in response.json()["error"]


def test_it_refuses_deeply_nested_json(quiet, users):
    body = "[" * 100_000 + "]" * 100_000
    response = quiet(users.command).post(f"{API}create/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


# --- sizes beyond the columns, through the API ------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("dpia_reference", "D" * 121),
        ("policy_reference", "P" * 121),
        ("max_watchlist_size", 2**31),
        ("max_watchlist_size", 10**30),
    ],
)
def test_it_refuses_plan_values_beyond_their_columns(quiet, users, plan, field, value):
    response = _json(quiet(users.command), f"{API}create/", _plan_body(plan, **{field: value}))
    assert response.status_code == 400
    assert field in response.json()
    assert not Deployment.objects.exists()


def test_it_refuses_a_site_name_beyond_its_column(quiet, users):
    response = _json(quiet(users.admin), f"{API}sites/create/", {"name": "S" * 201})
    assert response.status_code == 400 and "name" in response.json()
    assert not Site.objects.exists()


@pytest.mark.parametrize(
    "field,value", [("name", "C" * 201), ("stream_url", "rtsp://10.0.0.9/" + "x" * 490)]
)
def test_it_refuses_camera_texts_beyond_their_columns(quiet, users, dep_site, field, value):
    body = {"name": "cam-new", "stream_url": "rtsp://10.0.0.9/live", "site": dep_site.pk}
    response = _json(quiet(users.admin), f"{API}cameras/create/", {**body, field: value})
    assert response.status_code == 400 and field in response.json()
    assert not Camera.objects.filter(site=dep_site).exclude(name__startswith="cam-").exists()


# --- implausible values -------------------------------------------------------------------


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_it_refuses_a_deployment_in_an_implausible_year(quiet, users, plan, year):
    body = _plan_body(
        plan, starts_at=f"{year}-06-01T10:00:00+00:00", ends_at=f"{year}-06-01T12:00:00+00:00"
    )
    response = _json(quiet(users.command), f"{API}create/", body)
    assert response.status_code == 400
    assert "year" in str(response.json())


@pytest.mark.parametrize("threshold", [1e-300, 0.0, -0.5])
def test_it_refuses_a_meaningless_threshold(quiet, users, plan, threshold):
    response = _json(quiet(users.command), f"{API}create/", _plan_body(plan, threshold=threshold))
    assert response.status_code == 400
    assert "threshold" in str(response.json())


@pytest.mark.parametrize("field,value", [("latitude", "999.99"), ("longitude", "-180.5")])
def test_it_refuses_a_site_off_the_globe_through_the_api(quiet, users, field, value):
    response = _json(quiet(users.admin), f"{API}sites/create/", {"name": "Nowhere", field: value})
    assert response.status_code == 400 and field in response.json()
    assert not Site.objects.exists()


def test_it_refuses_a_site_off_the_globe_on_the_page(quiet, users):
    body = {"add_site": "1", "site-name": "Nowhere", "site-latitude": "999.99"}
    response = quiet(users.admin).post("/deployments/cameras/", body)
    assert response.status_code == 400
    assert b"latitude" in response.content.lower()
    assert not Site.objects.exists()
