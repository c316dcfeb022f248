"""Notices tell people about work that concerns them, and point to it."""

from datetime import timedelta

from django.urls import reverse

from core.models import Notice
from tests.fixtures_watchlists import submit_entry


def _texts(user, kind=None):
    qs = Notice.objects.filter(user=user)
    return [n.text for n in (qs.filter(kind=kind) if kind else qs)]


def test_it_tells_an_officer_when_assigned_when_authorised_and_when_live(
    users, deployment_in_state
):
    d = deployment_in_state("live", officers=[users.officer])
    kinds = list(Notice.objects.filter(user=users.officer).values_list("kind", flat=True))
    assert sorted(kinds) == ["deployment.assigned", "deployment.authorised", "deployment.live"]
    live = Notice.objects.get(user=users.officer, kind="deployment.live")
    assert d.reference in live.text and live.url == reverse("recognition:console", args=[d.pk])
    assert not Notice.objects.filter(user=users.officer2).exists()


def test_it_asks_every_authoriser_but_the_requester(users, deployment_in_state):
    d = deployment_in_state("submitted")
    asked = Notice.objects.filter(kind="deployment.authorisation_requested")
    assert list(asked.values_list("user", flat=True)) == [users.authoriser.pk]
    assert asked.get().url == reverse("deployments:authorise", args=[d.pk])


def test_it_tells_the_requester_the_decision(users, deployment_in_state):
    deployment_in_state("authorised")
    assert any("was authorised by auth" in t for t in _texts(users.command))


def test_it_tells_a_contributor_their_entry_was_decided(users):
    from watchlists import services

    entry = submit_entry(users.contributor)
    services.entry_decide(entry_id=entry.pk, by=users.manager, approve=False, reason="Too old")
    assert _texts(users.contributor, "watchlist.entry_reject") == [
        "Your entry S-1 was rejected by mgr."
    ]


def test_the_page_lists_them_and_marks_them_read_and_home_counts_the_new(
    login, users, deployment_in_state
):
    deployment_in_state("live", officers=[users.officer])
    client = login(users.officer)
    home = client.get("/").content.decode()
    assert 'data-testid="waiting-notice.unread"' in home
    page = client.get(reverse("notices")).content.decode()
    assert page.count('badge warn">new<') == 3
    assert not Notice.objects.filter(user=users.officer, read_at__isnull=True).exists()
    assert 'data-testid="waiting-notice.unread"' not in client.get("/").content.decode()


def test_it_has_a_useful_empty_state(login, users):
    assert 'data-testid="no-notices"' in login(users.admin).get(reverse("notices")).content.decode()


# Issue 26.6: a notice points at work; once that work is done it is no longer "new".


def _new(user, kind):
    return Notice.objects.filter(user=user, kind=kind, read_at__isnull=True).count()


def test_an_authorisation_request_is_not_new_once_decided(users, deployment_in_state):
    deployment_in_state("authorised")
    assert Notice.objects.filter(kind="deployment.authorisation_requested").count() == 1
    assert _new(users.authoriser, "deployment.authorisation_requested") == 0


def test_an_authorisation_request_is_not_new_once_the_plan_is_cancelled(users, deployment_in_state):
    from deployments import services

    d = deployment_in_state("submitted")
    services.deployment_cancel(deployment=d, by=users.command, reason="Event called off")
    assert _new(users.authoriser, "deployment.authorisation_requested") == 0


def test_a_live_notice_is_not_new_once_the_deployment_ended(users, deployment_in_state):
    deployment_in_state("completed", officers=[users.officer])
    assert _new(users.officer, "deployment.live") == 0
    assert _new(users.officer, "deployment.authorised") == 0


def test_another_deployments_notices_stay_new(users, deployment_in_state):
    first = deployment_in_state("live", officers=[users.officer])
    later = first.ends_at + timedelta(days=1)
    deployment_in_state("authorised", officers=[users.officer], starts_at=later)
    assert _new(users.officer, "deployment.live") == 1
    assert _new(users.officer, "deployment.authorised") == 2
