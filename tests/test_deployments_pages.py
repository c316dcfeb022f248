"""Deployment pages: allowed / read-only / outsider for each, and what each page shows."""


from django.urls import reverse

from core.models import AuditEvent
from deployments.models import Camera, Deployment
from tests.fixtures_deployments import make_entry


def _url(name, d):
    return reverse(f"deployments:{name}", args=[d.pk])


# --- calendar and list -----------------------------------------------------------------


def test_it_shows_the_week_with_capacity_used(login, users, deployment_in_state, next_monday):
    d = deployment_in_state("submitted")
    week = "{}-W{:02d}".format(*next_monday.isocalendar()[:2])
    response = login(users.command).get(reverse("deployments:calendar") + f"?week={week}")
    assert response.status_code == 200
    html = response.content.decode()
    assert d.reference in html and "1 of 10" in html


def test_it_hides_the_calendar_from_outsiders(login, users):
    assert login(users.nobody).get(reverse("deployments:calendar")).status_code == 404


def test_an_officer_lists_only_assigned_deployments(login, users, deployment_in_state):
    mine = deployment_in_state("submitted", officers=[users.officer])
    other = deployment_in_state("submitted", starts_at=mine.ends_at)
    html = login(users.officer).get(reverse("deployments:list")).content.decode()
    assert mine.reference in html and other.reference not in html


# --- detail ----------------------------------------------------------------------------


def test_detail_is_shown_to_command_staff_and_audited(login, users, deployment_in_state):
    d = deployment_in_state("draft")
    assert login(users.command2).get(_url("detail", d)).status_code == 200
    assert AuditEvent.objects.filter(
        action="deployment.view", object_id=str(d.pk), actor_id=users.command2.pk
    ).exists()


def test_detail_is_shown_to_an_assigned_officer(login, users, deployment_in_state):
    d = deployment_in_state("draft")
    d.officers.add(users.officer)
    assert login(users.officer).get(_url("detail", d)).status_code == 200


def test_detail_is_hidden_from_an_unassigned_officer(login, users, deployment_in_state):
    d = deployment_in_state("draft")
    assert login(users.officer2).get(_url("detail", d)).status_code == 404


def test_detail_is_hidden_from_outsiders(login, users, deployment_in_state):
    d = deployment_in_state("draft")
    assert login(users.nobody).get(_url("detail", d)).status_code == 404
    assert AuditEvent.objects.filter(action="deployment.view", outcome="denied").exists()


def test_the_live_page_names_a_camera_status_its_reader_may_fetch(
    login, users, deployment_in_state
):
    d = deployment_in_state("live")
    client = login(users.command)
    html = client.get(_url("detail", d)).content.decode()
    status = reverse("recognition:camera_status", kwargs={"deployment_id": d.pk})
    assert f'id="camera-status" data-url="{status}"' in html
    fragment = client.get(status)
    assert fragment.status_code == 200
    assert d.cameras.first().name in fragment.content.decode()


# --- create and edit -------------------------------------------------------------------


def _form_data(d_or_plan):
    p = d_or_plan
    return {
        "use_case": p["use_case"],
        "site": p["site"].pk,
        "cameras": [c.pk for c in p["cameras"]],
        "starts_at": p["starts_at"].strftime("%Y-%m-%dT%H:%M"),
        "ends_at": p["ends_at"].strftime("%Y-%m-%dT%H:%M"),
        "necessity": p["necessity"],
        "proportionality": p["proportionality"],
        "location_rationale": p["location_rationale"],
        "watchlist_categories": p["watchlist_categories"],
        "max_watchlist_size": p["max_watchlist_size"],
        "threshold": p["threshold"],
        "dpia_reference": p["dpia_reference"],
        "policy_reference": p["policy_reference"],
        "equality_reference": p["equality_reference"],
        "public_notice": "on",
    }


def test_command_staff_create_a_draft_from_the_form(login, users, plan):
    response = login(users.command).post(reverse("deployments:create"), _form_data(plan()))
    d = Deployment.objects.get()
    assert response.status_code == 302 and response["Location"] == _url("detail", d)
    assert d.state == "draft" and d.requested_by == users.command


def test_the_form_shows_the_threshold_rule(login, users, plan):
    data = _form_data(plan(threshold=0.9))
    html = login(users.command).post(reverse("deployments:create"), data).content.decode()
    assert "looser than the permitted maximum" in html
    assert not Deployment.objects.exists()


def test_oversight_may_not_create(login, users):
    assert login(users.oversight).get(reverse("deployments:create")).status_code == 403


def test_outsiders_may_not_create(login, users):
    assert login(users.nobody).get(reverse("deployments:create")).status_code == 404


def test_editing_an_authorised_deployment_warns_and_resets(login, users, deployment_in_state, plan):
    d = deployment_in_state("authorised")
    data = _form_data(plan(threshold=0.45))
    response = login(users.command).post(_url("edit", d), data, follow=True)
    assert "must be authorised again" in response.content.decode()
    d.refresh_from_db()
    assert d.state == "submitted" and d.threshold == 0.45


def test_oversight_may_not_edit(login, users, deployment_in_state):
    d = deployment_in_state("draft")
    assert login(users.oversight).get(_url("edit", d)).status_code == 403


# --- authorisation ---------------------------------------------------------------------


def test_the_authorisation_screen_shows_watchlist_size_per_category(
    login, users, deployment_in_state
):
    for category in ("wanted", "wanted", "suspect", "missing"):
        make_entry(users.contributor, users.manager, category=category)
    d = deployment_in_state("submitted", watchlist_categories=["wanted", "suspect"])
    response = login(users.authoriser).get(_url("authorise", d))
    assert response.status_code == 200
    assert response.context["counts"] == {"wanted": 2, "suspect": 1}
    html = response.content.decode()
    assert 'data-testid="watchlist-total">3<' in html
    assert d.necessity in html and d.dpia_reference in html


def test_the_authoriser_authorises_from_the_screen(login, users, deployment_in_state):
    d = deployment_in_state("submitted")
    client = login(users.authoriser)
    response = client.post(
        _url("authorise", d), {"reason": "necessary", "seen_updated_at": d.updated_at.isoformat()}
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == "authorised" and d.authorised_by == users.authoriser


def test_the_requester_gets_403_on_the_authorisation_screen(login, users, deployment_in_state):
    d = deployment_in_state("submitted")
    assert login(users.command).get(_url("authorise", d)).status_code == 403


def test_outsiders_get_404_on_the_authorisation_screen(login, users, deployment_in_state):
    d = deployment_in_state("submitted")
    assert login(users.officer).get(_url("authorise", d)).status_code == 404


# --- stop, record, sign-off ------------------------------------------------------------


def test_command_staff_stop_a_live_deployment(login, users, deployment_in_state):
    d = deployment_in_state("live")
    login(users.command2).post(_url("stop", d), {"reason": "crowd gone"})
    d.refresh_from_db()
    assert d.state == "completed"


def test_oversight_may_not_stop(login, users, deployment_in_state):
    d = deployment_in_state("live")
    assert login(users.oversight).post(_url("stop", d), {"reason": "x"}).status_code == 403


def test_review_and_sign_off_through_the_pages(login, users, deployment_in_state, client):
    d = deployment_in_state("completed")
    login(users.command).post(_url("record", d), {"review": "Four arrests, no false alerts."})
    client.logout()
    response = login(users.oversight).post(_url("signoff", d), follow=True)
    assert "Signed off" in response.content.decode()
    d.record.refresh_from_db()
    assert d.record.signed_off_by == users.oversight


def test_command_staff_may_not_sign_off(login, users, deployment_in_state):
    d = deployment_in_state("completed")
    assert login(users.command).post(_url("signoff", d)).status_code == 403


def test_outsiders_may_not_sign_off(login, users, deployment_in_state):
    d = deployment_in_state("completed")
    assert login(users.nobody).post(_url("signoff", d)).status_code == 404


# --- cameras ---------------------------------------------------------------------------


def test_admins_register_a_camera(login, users, dep_site):
    data = {
        "camera-name": "cam-east",
        "camera-site": dep_site.pk,
        "camera-stream_url": "https://cams.example/east.mjpg",
        "camera-enabled": "on",
    }
    response = login(users.admin).post(reverse("deployments:cameras"), data)
    assert response.status_code == 302
    assert Camera.objects.filter(name="cam-east").exists()


def test_the_camera_page_explains_a_refused_path(login, users, dep_site):
    data = {
        "camera-name": "cam-evil",
        "camera-site": dep_site.pk,
        "camera-stream_url": "../../etc/passwd",
    }
    html = login(users.admin).post(reverse("deployments:cameras"), data).content.decode()
    assert "outside the allowed camera file folder" in html
    assert not Camera.objects.filter(name="cam-evil").exists()


def test_command_staff_see_cameras_but_may_not_register(login, users, dep_site):
    client = login(users.command)
    assert client.get(reverse("deployments:cameras")).status_code == 200
    data = {"camera-name": "x", "camera-site": dep_site.pk, "camera-stream_url": "rtsp://h/x"}
    assert client.post(reverse("deployments:cameras"), data).status_code == 403


def test_outsiders_do_not_see_cameras(login, users):
    assert login(users.officer).get(reverse("deployments:cameras")).status_code == 404
