"""Issue 14.11: the authorise API refuses a plan edited after the authoriser viewed it."""

from deployments import services

API = "/api/v1/deployments/"


def _authorise(client, d, **body):
    return client.post(f"{API}{d.pk}/authorise/", body, content_type="application/json")


def test_it_refuses_to_authorise_through_the_api_without_seen_updated_at(
    login, users, deployment_in_state
):
    d = deployment_in_state("submitted")
    client = login(users.authoriser)
    client.get(f"{API}{d.pk}/authorisation/")
    services.deployment_update(
        deployment=d, by=users.command, cameras=list(d.cameras.all()), threshold=0.4
    )
    response = _authorise(client, d, reason="ok")
    assert response.status_code == 400, response.content
    assert "seen_updated_at" in response.json()
    d.refresh_from_db()
    assert d.state == "submitted"


def test_it_refuses_to_authorise_a_plan_changed_since_the_screen(login, users, deployment_in_state):
    d = deployment_in_state("submitted")
    client = login(users.authoriser)
    seen = client.get(f"{API}{d.pk}/authorisation/").json()["deployment"]["updated_at"]
    services.deployment_update(
        deployment=d, by=users.command, cameras=list(d.cameras.all()), threshold=0.4
    )
    response = _authorise(client, d, reason="ok", seen_updated_at=seen)
    assert response.status_code == 400
    assert "changed after you opened it" in str(response.json())
    d.refresh_from_db()
    assert d.state == "submitted"


def test_it_authorises_the_plan_as_shown_on_the_screen(login, users, deployment_in_state):
    d = deployment_in_state("submitted")
    client = login(users.authoriser)
    seen = client.get(f"{API}{d.pk}/authorisation/").json()["deployment"]["updated_at"]
    response = _authorise(client, d, reason="ok", seen_updated_at=seen)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "authorised"
