"""API tokens for integrations, the API's index and its documentation pages."""

import pytest
from django.test import Client
from django.urls import reverse

from core import access, tokens
from core.models import ApiToken, AuditEvent
from tests.factories import make_deployment


def _bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_an_admin_creates_a_token_shown_once_and_audited(login, users):
    client = login(users.admin)
    page = client.post(reverse("api_tokens"), {"name": "Force RMS", "role": access.OVERSIGHT})
    html = page.content.decode()
    token = ApiToken.objects.get()
    start = html.index('data-testid="token-key">') + len('data-testid="token-key">')
    key = html[start : html.index("<", start)]
    assert key.startswith(f"lfr_{token.prefix}_") and "no-store" in page["Cache-Control"]
    assert token.key_hash != key and key not in str(AuditEvent.objects.values_list("details"))
    assert key not in client.get(reverse("api_tokens")).content.decode()  # never again
    assert AuditEvent.objects.filter(action="api_token.create", actor_id=users.admin.pk).exists()


def test_a_token_acts_as_its_role_without_a_session_and_is_refused_once_revoked(users, db):
    make_deployment()
    token, key = tokens.api_token_create(by=users.admin, name="Planner", role=access.COMMAND_STAFF)
    anonymous = Client()
    ok = anonymous.get("/api/v1/deployments/", **_bearer(key))
    assert ok.status_code == 200 and ok.json()["count"] == 1
    assert anonymous.get("/api/v1/oversight/audit/", **_bearer(key)).status_code in (403, 404)
    tokens.api_token_revoke(by=users.admin, token_id=token.pk)
    refused = anonymous.get("/api/v1/deployments/", **_bearer(key))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert anonymous.get("/api/v1/deployments/", **_bearer(key + "x")).status_code == 401


def test_no_token_holds_a_role_that_decides(users, db):
    from django.core.exceptions import ValidationError

    for role in (access.AUTHORISING_OFFICER, access.WATCHLIST_MANAGER, access.OFFICER):
        with pytest.raises(ValidationError, match="A token may hold one of"):
            tokens.api_token_create(by=users.admin, name=f"x-{role}", role=role)


def test_only_administrators_manage_tokens(login, users):
    assert login(users.oversight).get(reverse("api_tokens")).status_code == 404
    assert login(users.admin).get(reverse("api_tokens")).status_code == 200


def test_the_api_has_an_index_and_documentation_served_from_the_package(login, users):
    client = login(users.command)
    index = client.get("/api/v1/").json()
    assert set(index["resources"]) == {"deployments", "watchlist", "recognition", "oversight"}
    assert index["docs"].endswith("/api/docs/") and index["schema"].endswith("/api/schema/")
    assert client.get("/api/").status_code in (301, 302)
    # Redoc's bundle is the package's, served without its CDN logo (test_hardening_csp).
    for page, script in (
        ("/api/docs/", "/static/drf_spectacular_sidecar/"),
        ("/api/redoc/", "/api/redoc/redoc.standalone.js"),
    ):
        html = client.get(page).content.decode()
        assert script in html and "cdn" not in html.lower()
