"""The deployments API: the same rules and access as the pages, in the OpenAPI schema."""

from django.urls import reverse

from core.models import AuditEvent
from deployments.models import Deployment
from tests.fixtures_deployments import make_entry

API = "/api/v1/deployments/"


def _body(p):
    return {
        **{k: v for k, v in p.items() if k not in ("site", "cameras")},
        "site": p["site"].pk,
        "cameras": [c.pk for c in p["cameras"]],
        "starts_at": p["starts_at"].isoformat(),
        "ends_at": p["ends_at"].isoformat(),
    }


def test_it_plans_submits_and_authorises_through_the_api(login, users, plan, client):
    make_entry(users.contributor, users.manager, category="wanted")
    created = login(users.command).post(
        f"{API}create/", _body(plan()), content_type="application/json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert client.post(f"{API}{pk}/submit/").json()["state"] == "submitted"
    client.logout()
    client = login(users.authoriser)
    screen = client.get(f"{API}{pk}/authorisation/").json()
    assert screen["watchlist_size_by_category"] == {"wanted": 1}
    assert screen["watchlist_total"] == 1 and screen["activation_blockers"] == []
    seen = screen["deployment"]["updated_at"]
    done = client.post(
        f"{API}{pk}/authorise/",
        {"reason": "ok", "seen_updated_at": seen},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["state"] == "authorised"


def test_a_refused_rule_is_a_400_with_the_message(login, users, plan):
    body = _body(plan(threshold=0.9))
    response = login(users.command).post(f"{API}create/", body, content_type="application/json")
    assert response.status_code == 400
    assert "looser than the permitted maximum" in str(response.json())


def test_self_authorisation_is_403_in_the_api(login, users, deployment_in_state):
    d = deployment_in_state("submitted")
    response = login(users.command).post(f"{API}{d.pk}/authorise/", {})
    assert response.status_code == 403


def test_outsiders_get_404_in_the_api(login, users, deployment_in_state):
    d = deployment_in_state("submitted")
    client = login(users.nobody)
    assert client.get(f"{API}{d.pk}/").status_code == 404
    assert client.get(API).status_code == 404


def test_read_only_users_get_403_on_writes(login, users, deployment_in_state):
    d = deployment_in_state("draft")
    response = login(users.oversight).post(f"{API}{d.pk}/submit/")
    assert response.status_code == 403
    assert Deployment.objects.get(pk=d.pk).state == "draft"


def test_the_detail_read_is_audited(login, users, deployment_in_state):
    d = deployment_in_state("draft")
    assert login(users.oversight).get(f"{API}{d.pk}/").status_code == 200
    assert AuditEvent.objects.filter(
        action="deployment.view", object_id=str(d.pk), actor_id=users.oversight.pk
    ).exists()


def test_the_list_is_paginated_and_filtered(login, users, deployment_in_state):
    d = deployment_in_state("submitted")
    deployment_in_state("draft", starts_at=d.ends_at)
    data = login(users.authoriser).get(f"{API}?state=submitted").json()
    assert data["count"] == 1 and data["results"][0]["reference"] == d.reference


def test_the_calendar_reports_capacity(login, users, deployment_in_state, next_monday):
    deployment_in_state("submitted")
    week = "{}-W{:02d}".format(*next_monday.isocalendar()[:2])
    data = login(users.command).get(f"{API}calendar/?week={week}").json()
    assert data["used"] == 1 and data["capacity"] == 10 and len(data["days"]) == 7


def test_the_record_review_and_sign_off(login, users, deployment_in_state, client):
    d = deployment_in_state("completed")
    client = login(users.command)
    assert client.get(f"{API}{d.pk}/record/").json()["fields"]["Total Alerts"] == 0
    client.post(f"{API}{d.pk}/review/", {"review": "fine"}, content_type="application/json")
    client.logout()
    signed = login(users.oversight).post(f"{API}{d.pk}/signoff/")
    assert signed.status_code == 200 and signed.json()["signed_off_at"]


def test_admins_register_cameras_and_bad_paths_are_400(login, users, dep_site):
    client = login(users.admin)
    ok = client.post(
        f"{API}cameras/create/",
        {"name": "cam-w", "stream_url": "rtsp://h/w", "site": dep_site.pk},
        content_type="application/json",
    )
    assert ok.status_code == 201
    bad = client.post(
        f"{API}cameras/create/",
        {"name": "cam-z", "stream_url": "/etc/passwd", "site": dep_site.pk},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "outside the allowed camera file folder" in str(bad.json())


def test_command_staff_may_not_register_cameras(login, users, dep_site):
    response = login(users.command).post(
        f"{API}cameras/create/",
        {"name": "cam-w", "stream_url": "rtsp://h/w", "site": dep_site.pk},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_every_operation_is_in_the_schema(login, users):
    schema = login(users.command).get(reverse("schema")).content.decode()
    for path in (
        "/api/v1/deployments/create/",
        "/api/v1/deployments/{id}/authorise/",
        "/api/v1/deployments/{id}/authorisation/",
        "/api/v1/deployments/{id}/stop/",
        "/api/v1/deployments/{id}/signoff/",
        "/api/v1/deployments/calendar/",
        "/api/v1/deployments/cameras/create/",
    ):
        assert path in schema, path


def test_it_plans_with_post_on_the_collection_and_patches_one_field(login, users, plan):
    client = login(users.command)
    created = client.post(API, _body(plan()), content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    patched = client.patch(
        f"{API}{pk}/", {"necessity": "A new case."}, content_type="application/json"
    )
    assert patched.status_code == 200, patched.content
    d = Deployment.objects.get(pk=pk)
    assert d.necessity == "A new case." and d.cameras.count() == len(plan()["cameras"])
    assert AuditEvent.objects.filter(action="deployment.update", object_id=str(pk)).exists()


def test_a_patch_by_a_read_only_user_is_403_and_by_an_outsider_404(
    login, users, deployment_in_state
):
    d = deployment_in_state("draft")
    body = {"necessity": "x"}
    assert login(users.oversight).patch(
        f"{API}{d.pk}/", body, content_type="application/json"
    ).status_code in (403, 404)
    assert Deployment.objects.get(pk=d.pk).necessity != "x"


def test_admins_register_and_patch_cameras_on_the_collection(login, users, dep_site):
    client = login(users.admin)
    ok = client.post(
        f"{API}cameras/",
        {"name": "cam-r", "stream_url": "rtsp://h/r", "site": dep_site.pk},
        content_type="application/json",
    )
    assert ok.status_code == 201, ok.content
    pk = ok.json()["id"]
    off = client.patch(f"{API}cameras/{pk}/", {"enabled": False}, content_type="application/json")
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert off.json()["name"] == "cam-r"


def test_the_action_routes_are_deprecated_aliases_in_the_schema(login, users):
    schema = login(users.command).get(reverse("schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert paths["/api/v1/deployments/create/"]["post"]["deprecated"] is True
    assert (
        "`POST /api/v1/deployments/`" in paths["/api/v1/deployments/create/"]["post"]["description"]
    )
    assert paths["/api/v1/deployments/{id}/update/"]["post"]["deprecated"] is True
    assert not paths["/api/v1/deployments/"]["post"].get("deprecated")
    assert set(paths["/api/v1/deployments/{id}/"]) >= {"get", "patch"}
