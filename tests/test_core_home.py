"""Each role's home page leads with what waits for them; the navigation shows the counts."""

from django.urls import reverse

from core import access
from deployments.models import Deployment, DeploymentRecord
from tests.factories import make_deployment
from tests.fixtures_console import make_alert
from tests.fixtures_watchlists import biden, openface, submit_entry
from tests.helpers import make_user

S = Deployment.State


def _home(login, user):
    return login(user).get("/").content.decode()


def _card(html: str, key: str) -> str:
    start = html.index(f'data-testid="waiting-{key}"')
    return html[start : html.index("</div>", start)]


def test_it_shows_a_manager_the_queue_count_and_each_entry_one_click_away(login, users):
    both = make_user("mgr-contrib", access.WATCHLIST_MANAGER, access.WATCHLIST_CONTRIBUTOR)
    first = submit_entry(users.contributor, "S-1")
    submit_entry(users.contributor, "S-2", result=biden())
    submit_entry(both, "S-3", result=openface("clapton-1.jpg"))  # theirs: another decides
    html = _home(login, both)
    card = _card(html, "watchlist.review")
    assert '<strong class="count" data-testid="count">2</strong>' in card
    assert reverse("watchlists:entry", args=[first.pk]) in card
    assert f'href="{reverse("watchlists:queue")}"' in html
    assert 'data-testid="nav-badge" title="2 waiting">2<' in html


def test_it_shows_an_authoriser_what_waits_for_authorisation_but_not_their_own(login, users):
    theirs = make_deployment(state=S.SUBMITTED, requested_by=users.command)
    make_deployment(state=S.SUBMITTED, requested_by=users.authoriser)
    card = _card(_home(login, users.authoriser), "deployment.authorise")
    assert '">1</strong>' in card
    assert reverse("deployments:authorise", args=[theirs.pk]) in card


def test_it_puts_an_urgent_start_awaiting_authorisation_first(login, users):
    make_deployment(state=S.SUBMITTED, requested_by=users.command)
    make_deployment(urgent=True, authorised_at=None, requested_by=users.command)
    html = _home(login, users.authoriser)
    assert html.index("waiting-deployment.urgent_authorise") < html.index(
        "waiting-deployment.authorise"
    )


def test_it_shows_an_officer_their_live_deployment_and_undecided_alerts(login, users):
    live = make_deployment(officers=[users.officer])
    make_alert(live, nudge=False)
    make_alert(live, nudge=False, entry_id=2)
    make_deployment(officers=[users.officer2])  # not theirs
    html = _home(login, users.officer)
    assert reverse("recognition:console", args=[live.pk]) in _card(html, "deployment.assigned_live")
    alerts = _card(html, "alert.undecided")
    assert '">2</strong> alerts wait for your decision' in alerts
    # Issue 26: every deployment with alerts is listed ("2 on ..."): no "and 1 more" from
    # alerts minus deployments; the Live alerts badge counts alerts only, never alerts
    # plus deployments.
    assert "more" not in alerts
    assert 'title="2 waiting">2<' in html


def test_it_shows_command_the_records_to_review_and_oversight_those_to_sign_off(login, users):
    done = make_deployment(state=S.COMPLETED, requested_by=users.command)
    DeploymentRecord.objects.create(deployment=done, fields={}, computed_at=done.starts_at)
    assert reverse("deployments:record", args=[done.pk]) in _card(
        _home(login, users.command), "deployment.review"
    )
    DeploymentRecord.objects.filter(deployment=done).update(
        reviewed_by=users.command, reviewed_at=done.starts_at
    )
    assert reverse("deployments:record", args=[done.pk]) in _card(
        _home(login, users.oversight), "deployment.signoff"
    )


def test_it_says_so_when_nothing_waits(login, users):
    html = _home(login, users.admin)
    assert 'data-testid="nothing-waiting"' in html and "nav-badge" not in html
