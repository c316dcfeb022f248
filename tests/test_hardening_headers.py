"""Issue 14.9 (part): no-store on authenticated responses; a safe request id only."""

import pytest

from core.models import AuditEvent


@pytest.mark.parametrize("url", ["/", "/deployments/cameras/", "/api/v1/deployments/cameras/"])
def test_it_marks_authenticated_responses_no_store(login, users, url):
    response = login(users.admin).get(url)
    assert response.status_code == 200
    assert "no-store" in response.get("Cache-Control", "")


def test_it_leaves_public_pages_cacheable(client, db):
    assert "no-store" not in client.get("/transparency/").get("Cache-Control", "")


def test_it_keeps_a_safe_client_request_id(login, users):
    response = login(users.admin).get("/deployments/cameras/", HTTP_X_REQUEST_ID="abc-123.x_Y")
    assert response["X-Request-ID"] == "abc-123.x_Y"


@pytest.mark.parametrize("bad", ["<script>alert(1)</script>", "a b", "x\u202ey", "'; DROP--"])
def test_it_replaces_an_unsafe_client_request_id(client, users, password, bad):
    response = client.post(
        "/accounts/login/", {"username": "cmd", "password": password}, HTTP_X_REQUEST_ID=bad
    )
    assert response.status_code == 302
    stored = AuditEvent.objects.get(action="login.succeeded").request_id
    assert stored == response["X-Request-ID"] != bad and len(stored) == 32
