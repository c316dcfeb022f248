import pytest
from django.urls import reverse

from core.models import AuditEvent
from oversight import selectors
from recognition.models import Alert
from recognition.services.holds import alert_hold_place
from tests.fixtures_oversight import make_alert
from tests.helpers import faces

REASON = "R v Jones, Snaresbrook Crown Court, disclosure"
PURPOSE = "Complaint review CR-2026-311"

READS = [
    ("oversight_api:audit_events", {}),
    ("oversight_api:audit_flags", {}),
    ("oversight_api:audit_verification", {}),
    ("oversight_api:effectiveness", {}),
    ("oversight_api:accuracy_runs", {}),
    ("oversight_api:equality", {}),
    ("oversight_api:retention", {}),
    ("oversight_api:holds", {}),
]


@pytest.mark.parametrize("name,params", READS)
def test_it_lets_oversight_read_every_api_endpoint(
    login, oversight_world, fresh_cache, name, params
):
    response = login(oversight_world.users.oversight).get(reverse(name), params)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("name,params", READS)
def test_it_hides_the_api_from_officers(login, users, name, params):
    assert login(users.officer2).get(reverse(name), params).status_code == 404


def test_it_reports_effectiveness_as_json(login, oversight_world):
    url = reverse("oversight_api:effectiveness")
    data = login(oversight_world.users.oversight).get(url, {"by": "use_case"}).json()
    assert data["total"]["alerts"] == 10
    assert {r["key"] for r in data["rows"]} == {
        "crime_hotspot",
        "event_protection",
        "missing_persons",
    }


def test_it_serves_one_evaluation_run(login, users, evaluation_run):
    url = reverse("oversight_api:accuracy_run", args=[evaluation_run.pk])
    data = login(users.oversight).get(url).json()
    assert data["operating_point"]["threshold"] == 0.5 and len(data["rows"]) == 9


def test_it_audits_reading_the_log_through_the_api(login, users):
    login(users.oversight).get(reverse("oversight_api:audit_events"), {"user": "cmd"})
    event = AuditEvent.objects.get(action="audit.viewed")
    assert event.details["filters"] == {"user": "cmd"} and event.details["api"] is True


# --- writes: command staff and admin only; oversight always 403 ----------------------------


@pytest.fixture
def alert(live_deployment):
    return make_alert(live_deployment, at=live_deployment.starts_at)


@pytest.mark.parametrize("role", ["command", "admin"])
def test_it_lets_holders_place_and_lift_a_hold(login, users, alert, role):
    client = login(getattr(users, role))
    response = client.post(reverse("oversight_api:hold_place", args=[alert.pk]), {"reason": REASON})
    assert response.status_code == 200 and response.json()["legal_hold"] is True
    url = reverse("oversight_api:hold_release", args=[alert.pk])
    response = client.post(url, {"reason": "Proceedings concluded"})
    assert response.status_code == 200 and response.json()["legal_hold"] is False


def test_it_answers_400_for_a_missing_reason(login, users, alert):
    url = reverse("oversight_api:hold_place", args=[alert.pk])
    assert login(users.command).post(url, {}).status_code == 400
    assert login(users.command).post(url, {"reason": "short"}).status_code == 400


@pytest.mark.parametrize("name", ["oversight_api:hold_place", "oversight_api:hold_release"])
def test_it_refuses_oversight_every_write(login, users, alert, name):
    if name.endswith("release"):
        alert_hold_place(alert=alert, by=users.command, reason=REASON)
    response = login(users.oversight).post(reverse(name, args=[alert.pk]), {"reason": REASON})
    assert response.status_code == 403
    assert Alert.objects.get(pk=alert.pk).legal_hold is name.endswith("release")


@pytest.mark.parametrize("name", ["oversight_api:hold_place", "oversight_api:hold_release"])
def test_it_hides_alerts_from_unassigned_officers(login, users, alert, name):
    response = login(users.officer2).post(reverse(name, args=[alert.pk]), {"reason": REASON})
    assert response.status_code == 404


def test_it_lets_auditors_reverify_the_chain(login, users, fresh_cache):
    response = login(users.oversight).post(reverse("oversight_api:audit_verification"))
    assert response.status_code == 200 and response.json()["ok"] is True


# --- purpose on sensitive reads ---------------------------------------------------------------


def _history(reference="S-0001"):
    return reverse("oversight_api:subject_history", args=[reference])


@pytest.mark.parametrize("purpose", [None, "", "x", "    "])
def test_it_refuses_subject_history_without_a_purpose(login, oversight_world, purpose):
    params = {} if purpose is None else {"purpose": purpose}
    response = login(oversight_world.users.oversight).get(_history(), params)
    assert response.status_code == 400
    assert "purpose" in response.json()
    assert not AuditEvent.objects.filter(action="subject.history_viewed").exists()


def test_it_records_the_purpose_of_a_subject_history_read(login, oversight_world):
    response = login(oversight_world.users.oversight).get(_history(), {"purpose": PURPOSE})
    assert response.status_code == 200
    data = response.json()
    assert len(data["alerts"]) == 4  # alerts 1, 4, 7 and 10 of the seeded ten
    event = AuditEvent.objects.get(action="subject.history_viewed")
    assert event.purpose == PURPOSE and event.details["subject_reference"] == "S-0001"


def test_it_asks_for_a_purpose_on_the_subject_history_page(login, oversight_world):
    client = login(oversight_world.users.oversight)
    url = reverse("oversight:subject_history", args=["S-0001"])
    first = client.get(url)
    assert first.status_code == 200 and b"Purpose or case reference" in first.content
    assert client.get(url, {"purpose": "x"}).status_code == 400
    shown = client.get(url, {"purpose": PURPOSE})
    assert shown.status_code == 200 and b"LFR-2607-01" in shown.content
    assert AuditEvent.objects.filter(action="subject.history_viewed", purpose=PURPOSE).count() == 1


def test_it_answers_404_for_an_unknown_subject(login, oversight_world):
    response = login(oversight_world.users.oversight).get(_history("S-9999"), {"purpose": PURPOSE})
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["command", "officer", "manager"])
def test_it_hides_subject_history_from_others(login, oversight_world, role):
    client = login(getattr(oversight_world.users, role))
    assert client.get(_history(), {"purpose": PURPOSE}).status_code == 404


# --- cross-app: the other sensitive reads refuse a request without a purpose ----------------


def test_it_refuses_a_watchlist_image_without_a_purpose(login, users):
    from watchlists.models import ReferenceImage, Subject, WatchlistEntry

    subject = Subject.objects.create(
        reference="S-IMG-1", display_name="A", created_by=users.contributor
    )
    entry = WatchlistEntry.objects.create(
        subject=subject,
        category="wanted",
        legal_basis="PACE s.24",
        case_reference="CR-1",
        provenance="custody image",
        submitted_by=users.contributor,
    )
    image = ReferenceImage.objects.create(
        entry=entry,
        jpeg=faces("examples", "obama_small.jpg").read_bytes(),
        pixel_sha256="0" * 64,
        width=1,
        height=1,
        face_px=100,
        sharpness=1.0,
        pose_score=0.0,
    )
    client = login(users.oversight)
    url = reverse("watchlists_api:image", args=[image.pk])
    assert client.get(url).status_code == 400
    assert client.get(url, {"purpose": "x"}).status_code == 400
    assert client.get(url, {"purpose": PURPOSE}).status_code == 200
    # The event that app writes is one the audit explorer's flags recognise.
    event = AuditEvent.objects.get(object_type="watchlists.referenceimage")
    assert event.purpose == PURPOSE and selectors.is_sensitive_read(event.action)


def test_it_refuses_an_alert_crop_without_a_purpose(login, users, alert):
    client = login(users.oversight)
    url = reverse("recognition:alert_crop", args=[alert.pk])
    assert client.get(url).status_code == 400
    response = client.get(url, {"purpose": PURPOSE})
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    event = AuditEvent.objects.get(action="alert.crop_viewed")
    assert event.purpose == PURPOSE and selectors.is_sensitive_read(event.action)
