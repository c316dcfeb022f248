"""Issue 26: plans that can be mended — the gate's blockers shown to command on the draft
and at submit, a refused plan revised and resubmitted (the refusal stays on the record),
any plan copied as a new one, cameras offered by site, clashes with both dates."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from deployments import services
from deployments.models import Camera, Deployment, Site
from tests.test_deployments_pages import _form_data

POLICY = "no appropriate policy document reference"


def _plan_of(d, **changes):
    p = {
        f: getattr(d, f)
        for f in (
            "use_case", "site", "starts_at", "ends_at", "necessity", "proportionality",
            "location_rationale", "watchlist_categories", "max_watchlist_size", "threshold",
            "dpia_reference", "policy_reference", "equality_reference",
        )
    }  # fmt: skip
    p["cameras"] = list(d.cameras.all())
    p.update(changes)
    return p


@pytest.fixture
def refused(deployment_in_state, users):
    d = deployment_in_state("submitted", policy_reference="")
    return services.deployment_refuse(
        deployment=d, by=users.authoriser, reason="No appropriate policy document named."
    )


def test_command_sees_the_gate_on_a_draft(client, login, users, deployment_in_state):
    d = deployment_in_state("draft", policy_reference="")
    login(users.command)
    page = client.get(reverse("deployments:detail", args=[d.pk])).content.decode()
    assert 'data-testid="gate"' in page and POLICY in page


def test_command_is_told_the_gate_at_submit(client, login, users, deployment_in_state):
    d = deployment_in_state("draft", policy_reference="")
    login(users.command)
    page = client.post(reverse("deployments:submit", args=[d.pk]), follow=True)
    assert POLICY in " ".join(str(m) for m in page.context["messages"])


def test_the_form_of_a_revision_starts_from_the_refused_plan(client, login, users, refused):
    login(users.command)
    page = client.get(reverse("deployments:create"), {"revise": refused.pk})
    assert page.context["form"].initial["necessity"] == refused.necessity
    assert "No appropriate policy document named." in page.content.decode()


def test_a_revised_plan_keeps_the_refusal_in_its_record(client, login, users, refused):
    login(users.command)
    data = _form_data(_plan_of(refused, policy_reference="APD-2026-02"))
    response = client.post(f"{reverse('deployments:create')}?revise={refused.pk}", data)
    revision = Deployment.objects.exclude(pk=refused.pk).get()
    assert response["Location"] == reverse("deployments:detail", args=[revision.pk])
    assert revision.revises == refused and revision.state == "draft"
    refused.refresh_from_db()
    assert refused.state == "refused"
    client.post(reverse("deployments:submit", args=[revision.pk]))
    revision.refresh_from_db()
    assert revision.state == "submitted"
    page = client.get(reverse("deployments:detail", args=[revision.pk])).content.decode()
    assert 'data-testid="history"' in page and refused.reference in page
    assert "No appropriate policy document named." in page
    event = AuditEvent.objects.get(action="deployment.create", object_id=str(revision.pk))
    assert event.details["revises"] == refused.reference


def test_a_refused_plan_is_revised_once(users, refused, plan):
    p = plan(policy_reference="APD-2026-02")
    cameras = p.pop("cameras")
    services.deployment_create(by=users.command, cameras=cameras, revises=refused, **p)
    with pytest.raises(ValidationError, match="already revised"):
        services.deployment_create(by=users.command, cameras=cameras, revises=refused, **p)


def test_only_a_refused_plan_is_revised(users, deployment_in_state, plan):
    d = deployment_in_state("submitted")
    p = plan()
    cameras = p.pop("cameras")
    with pytest.raises(ValidationError, match="refused"):
        services.deployment_create(by=users.command, cameras=cameras, revises=d, **p)


def test_any_plan_is_copied_as_a_new_one(client, login, users, deployment_in_state):
    d = deployment_in_state("authorised")
    login(users.command)
    page = client.get(reverse("deployments:create"), {"copy": d.pk})
    assert page.context["form"].initial["location_rationale"] == d.location_rationale
    assert {c.pk for c in page.context["form"].initial["cameras"]} == {
        c.pk for c in d.cameras.all()
    }


def test_the_form_offers_each_camera_with_its_site(client, login, users, dep_site):
    other = Site.objects.create(name="Elsewhere")
    Camera.objects.create(name="cam-far", stream_url="rtsp://10.0.0.9/x", site=other)
    login(users.command)
    page = client.get(reverse("deployments:create")).content.decode()
    assert f'data-site="{other.pk}"' in page and f'data-site="{dep_site.pk}"' in page
    assert "deployments/plan_form.js" in page


def test_a_clash_across_midnight_names_both_dates(users, deployment_in_state, next_monday):
    late = next_monday + timedelta(hours=22)
    deployment_in_state("submitted", starts_at=late, ends_at=late + timedelta(hours=4))
    d = deployment_in_state("draft", starts_at=late + timedelta(hours=1))
    with pytest.raises(ValidationError) as caught:
        services.deployment_submit(deployment=d, by=users.command)
    message = " ".join(caught.value.messages)
    day = timezone.localtime(late).date()
    after = timezone.localtime(late + timedelta(hours=4)).date()
    assert day != after and str(day) in message and str(after) in message


def test_the_calendar_shows_when_a_stopped_deployment_ended(client, login, users, next_monday):
    from tests.factories import make_deployment

    start = next_monday + timedelta(hours=9)
    d = make_deployment(starts_at=start, ends_at=start + timedelta(hours=4))
    Deployment.objects.filter(pk=d.pk).update(
        state="completed", ended_at=start + timedelta(hours=1, minutes=7)
    )
    login(users.command)
    week = "{}-W{:02d}".format(*timezone.localtime(start).isocalendar()[:2])
    page = client.get(reverse("deployments:calendar"), {"week": week}).content.decode()
    local = timezone.localtime(start + timedelta(hours=1, minutes=7))
    assert f"– {local:%H:%M}" in page
