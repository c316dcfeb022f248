"""The REST API: submission through the intake gate, decisions, images, permissions."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.models import AuditEvent
from tests import fixtures_watchlists as fx
from tests.helpers import faces
from watchlists.models import ReferenceImage, Subject, WatchlistEntry

ENTRIES = "/api/v1/watchlist/entries/"

FIELDS = {
    "subject_reference": "S-100",
    "display_name": "Test Subject",
    "category": "wanted",
    "legal_basis": "Warrant issued by the magistrates' court",
    "case_reference": "OP-77",
    "provenance": "Custody photograph",
    "taken_on": "2026-06-01",
}


def post_image(client, data: bytes, name="photo.jpg", ctype="image/jpeg", **fields):
    upload = SimpleUploadedFile(name, data, content_type=ctype)
    return client.post(ENTRIES, {**FIELDS, **fields, "image": upload})


def test_it_creates_a_pending_entry_from_a_real_photo(users, login):
    client = login(users.contributor)
    r = post_image(client, faces("examples", "obama.jpg").read_bytes())
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "pending" and body["submitted_by"] == "contrib"
    assert body["images"][0]["face_px"] >= 80
    assert "encoding" not in r.content.decode()


def test_it_stores_the_image_without_metadata(users, login):
    client = login(users.contributor)
    r = post_image(client, fx.jpeg_with_gps())
    assert r.status_code == 201, r.content
    stored = bytes(ReferenceImage.objects.get().jpeg)
    img = Image.open(io.BytesIO(stored))
    assert not img.getexif() and "icc_profile" not in img.info
    assert fx.GPS_MARK.encode() not in stored and stored.endswith(b"\xff\xd9")


def test_it_strips_html_appended_to_a_png(users, login):
    client = login(users.contributor)
    r = post_image(client, fx.png_with_html(), name="x.png", ctype="image/png")
    assert r.status_code == 201, r.content
    assert b"<script>" not in bytes(ReferenceImage.objects.get().jpeg)


BAD = [
    ("not_image", lambda: b"just some text, not a picture\n" * 10, "notes.jpg", "format"),
    ("truncated", fx.truncated_jpeg, "cut.jpg", "decode"),
    ("bomb", fx.png_bomb, "bomb.png", "pixels"),
    ("svg", fx.svg_text, "face.svg", "format"),
    ("gif", fx.gif_bytes, "face.jpg", "format"),
    ("two", lambda: faces("examples", "two_people.jpg").read_bytes(), "two.jpg", "multiple_faces"),
    (
        "partial",
        lambda: faces("tests", "test_images", "obama_partial_face.jpg").read_bytes(),
        "p.jpg",
        "partial_face",
    ),
]


@pytest.mark.parametrize("label,make,name,rule", BAD, ids=[b[0] for b in BAD])
def test_it_refuses_bad_files_naming_the_rule_and_saves_nothing(
    users, login, label, make, name, rule
):
    client = login(users.contributor)
    r = post_image(client, make(), name=name)
    assert r.status_code == 400, r.content
    assert r.json()["rule"] == rule and r.json()["detail"]
    assert not Subject.objects.exists() and not WatchlistEntry.objects.exists()
    assert not ReferenceImage.objects.exists()


def test_it_refuses_a_file_over_the_byte_limit(users, login, settings):
    settings.LFR_MAX_UPLOAD_BYTES = 50_000
    r = post_image(login(users.contributor), faces("examples", "obama.jpg").read_bytes())
    assert r.status_code == 400 and r.json()["rule"] == "bytes"


def test_it_refuses_a_duplicate_face_on_the_same_subject(users, login):
    client = login(users.contributor)
    data = faces("examples", "obama.jpg").read_bytes()
    assert post_image(client, data).status_code == 201
    r = post_image(client, data)
    assert r.status_code == 400 and r.json()["rule"] == "duplicate"
    assert WatchlistEntry.objects.count() == 1


def test_it_refuses_a_catch_all_category(users, login):
    r = post_image(login(users.contributor), b"x", category="other")
    assert r.status_code == 400
    assert not Subject.objects.exists()


def test_it_lists_and_filters_entries(users, login):
    fx.submit_entry(users.contributor, "S-1")
    fx.approved_entry(users, "S-2", category="missing", result=fx.biden())
    client = login(users.manager)
    why = {"purpose": "Weekly review OP-1"}  # a list is a consultation (issue 14.4)
    assert client.get(ENTRIES, why).json()["count"] == 2
    body = client.get(ENTRIES, {**why, "state": "approved"}).json()
    assert [e["subject_reference"] for e in body["results"]] == ["S-2"]
    assert client.get(ENTRIES, {**why, "category": "wanted"}).json()["count"] == 1
    assert client.get(ENTRIES, {**why, "category": "other"}).status_code == 400


def test_it_approves_through_the_api(users, login, pending_entry):
    r = login(users.manager).post(f"{ENTRIES}{pending_entry.pk}/approve/", {"reason": "ok"})
    assert r.status_code == 200 and r.json()["state"] == "approved"


def test_it_answers_409_to_a_second_decision(users, login, pending_entry):
    client = login(users.manager)
    client.post(f"{ENTRIES}{pending_entry.pk}/reject/", {"reason": "weak"})
    r = client.post(f"{ENTRIES}{pending_entry.pk}/approve/", {"reason": "ok"})
    assert r.status_code == 409 and r.json()["rule"] == "state"


def test_it_requires_a_reason_to_decide(users, login, pending_entry):
    r = login(users.manager).post(f"{ENTRIES}{pending_entry.pk}/approve/", {})
    assert r.status_code == 400


def test_it_refuses_approval_by_the_contributor(users, login, pending_entry):
    r = login(users.contributor).post(f"{ENTRIES}{pending_entry.pk}/approve/", {"reason": "x"})
    assert r.status_code == 403


# --- images: purpose, audit, no-store ----------------------------------------------------


def test_it_serves_an_image_only_with_a_purpose(users, login, pending_entry):
    image = pending_entry.images.get()
    client = login(users.manager)
    url = f"/api/v1/watchlist/images/{image.pk}/"
    r = client.get(url)
    assert r.status_code == 400 and r.json()["rule"] == "purpose"
    r = client.get(url, {"purpose": "Review of entry for OP-1234"})
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert "no-store" in r["Cache-Control"]
    assert r.content == bytes(image.jpeg)
    event = AuditEvent.objects.get(action="watchlist.image_view")
    assert event.purpose == "Review of entry for OP-1234" and event.actor_username == "mgr"


def test_it_answers_404_for_a_purged_image(users, login, pending_entry):
    image = pending_entry.images.get()
    ReferenceImage.objects.filter(pk=image.pk).update(jpeg=None)
    r = login(users.oversight).get(f"/api/v1/watchlist/images/{image.pk}/", {"purpose": "audit"})
    assert r.status_code == 404


# --- permissions: officer and outsider 404, oversight read-only ---------------------------


def api_calls(entry):
    image = entry.images.get()
    upload = SimpleUploadedFile("a.jpg", b"x", content_type="image/jpeg")
    return [
        ("get", ENTRIES, {}),
        ("post", ENTRIES, {**FIELDS, "image": upload}),
        ("get", f"{ENTRIES}{entry.pk}/", {}),
        ("post", f"{ENTRIES}{entry.pk}/approve/", {"reason": "x"}),
        ("post", f"{ENTRIES}{entry.pk}/reject/", {"reason": "x"}),
        ("post", f"{ENTRIES}{entry.pk}/withdraw/", {"reason": "x"}),
        ("post", f"{ENTRIES}{entry.pk}/expire/", {"reason": "x"}),
        ("get", f"/api/v1/watchlist/images/{image.pk}/", {"purpose": "looking around"}),
        ("post", "/api/v1/watchlist/check/", {"image": upload}),
    ]


@pytest.mark.parametrize("who", ["officer", "nobody"])
def test_it_hides_everything_from_officers_and_outsiders(users, login, pending_entry, who):
    client = login(getattr(users, who))
    for method, url, data in api_calls(pending_entry):
        r = getattr(client, method)(url, data)
        assert r.status_code == 404, (method, url, r.status_code)
        assert b"OP-1234" not in r.content and b"Warrant" not in r.content


def test_it_lets_oversight_read_but_not_write(users, login, pending_entry):
    client = login(users.oversight)
    assert client.get(ENTRIES, {"purpose": "Audit sample"}).status_code == 200
    assert client.get(f"{ENTRIES}{pending_entry.pk}/").json()["case_reference"] == "OP-1234"
    image = pending_entry.images.get()
    assert (
        client.get(f"/api/v1/watchlist/images/{image.pk}/", {"purpose": "Audit sample"}).status_code
        == 200
    )
    for method, url, data in api_calls(pending_entry):
        if method == "post":
            assert client.post(url, data).status_code == 403, url
    pending_entry.refresh_from_db()
    assert pending_entry.state == "pending"


def test_it_refuses_anonymous_requests(client, pending_entry):
    assert client.get(ENTRIES).status_code in {401, 403}


# --- the check endpoint and the schema ---------------------------------------------------


def test_it_checks_an_image_without_storing_anything(users, login):
    client = login(users.contributor)
    upload = SimpleUploadedFile("a.jpg", faces("examples", "obama.jpg").read_bytes())
    r = client.post("/api/v1/watchlist/check/", {"image": upload})
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["face_px"] >= 80
    upload = SimpleUploadedFile("b.svg", fx.svg_text())
    r = client.post("/api/v1/watchlist/check/", {"image": upload})
    assert r.json() == {"ok": False, "rule": "format", "detail": r.json()["detail"]}
    assert not Subject.objects.exists() and not ReferenceImage.objects.exists()


def test_it_documents_the_api_in_the_schema(users, login):
    r = login(users.manager).get("/api/schema/", {"format": "json"})
    assert r.status_code == 200
    schema = json.loads(r.content)
    for path in [
        "/api/v1/watchlist/entries/",
        "/api/v1/watchlist/entries/{entry_id}/approve/",
        "/api/v1/watchlist/entries/{entry_id}/reject/",
        "/api/v1/watchlist/images/{image_id}/",
    ]:
        assert path in schema["paths"]
    assert "multipart/form-data" in r.content.decode()


def test_it_audits_reading_an_entry(users, login, pending_entry):
    login(users.oversight).get(f"{ENTRIES}{pending_entry.pk}/")
    event = AuditEvent.objects.get(action="watchlist.entry_view")
    assert event.actor_username == "ovs" and event.object_id == str(pending_entry.pk)
