import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from core import access
from core.models import AuditEvent
from tests.helpers import sign_in

# What each role's navigation shows (labels from core.context_processors.NAV).
EXPECTED_NAV = {
    "command": {"Deployments", "Reports"},
    "authoriser": {"Deployments", "Reports"},
    "contributor": {"Watchlist", "Submit entry", "Bulk import"},
    "manager": {"Watchlist", "Review queue"},
    "officer": {"Live alerts"},
    "oversight": {"Deployments", "Watchlist", "Live alerts", "Audit", "Reports", "Health"},
    "admin": {"Deployments", "Audit", "Cameras", "Health", "Users", "API tokens"},
    "nobody": set(),
}
for _labels in EXPECTED_NAV.values():
    _labels.add("Notices")  # everyone's own
NAV_URLS = {
    "Deployments": "deployments:calendar",
    "Watchlist": "watchlists:entries",
    "Review queue": "watchlists:queue",
    "Submit entry": "watchlists:submit",
    "Bulk import": "watchlists:import",
    "Live alerts": "recognition:consoles",
    "Audit": "oversight:audit",
    "Reports": "oversight:reports",
    "Cameras": "deployments:cameras",
    "Health": "health",
    "Notices": "notices",
    "Users": "users",
    "API tokens": "api_tokens",
}


@pytest.mark.parametrize("who", sorted(EXPECTED_NAV))
def test_it_shows_each_role_only_its_navigation(client, users, who):
    user = getattr(users, {"command": "command", "authoriser": "authoriser"}.get(who, who))
    sign_in(client, user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    shown = {item["label"]: item["url"] for item in response.context["nav_items"]}
    assert shown == {label: reverse(NAV_URLS[label]) for label in EXPECTED_NAV[who]}


@pytest.mark.parametrize(
    "who, status",
    [("admin", 200), ("oversight", 200), ("officer", 404), ("command", 404), ("nobody", 404)],
)
def test_it_guards_the_health_page(client, users, who, status):
    sign_in(client, getattr(users, who))
    assert client.get(reverse("health")).status_code == status


def test_it_sends_anonymous_users_from_health_to_login(client, db):
    assert client.get(reverse("health")).status_code == 302


def test_it_reports_each_health_check(client, users):
    sign_in(client, users.admin)
    response = client.get(reverse("health") + "?format=json")
    checks = {c["name"]: c for c in response.json()["checks"]}
    assert set(checks) == {
        "database",
        "channel layer",
        "broker",
        "worker heartbeat",
        "beat jobs",
        "stream sessions",
        "live cameras",
    }
    assert checks["database"]["ok"] and checks["channel layer"]["ok"] and checks["broker"]["ok"]
    # No worker runs in this test, and the page says so instead of pretending.
    assert not checks["worker heartbeat"]["ok"]
    assert response.status_code == 503


class _Entry:
    def __init__(self, submitted_by_id):
        self.submitted_by_id = submitted_by_id


def test_it_forbids_approving_ones_own_entry(users):
    assert access.can(users.manager, "watchlist", "approve", _Entry(users.manager2.pk))
    assert not access.can(users.manager, "watchlist", "approve", _Entry(users.manager.pk))


def test_it_gives_outsiders_404_and_readers_403_and_audits_both(users):
    with pytest.raises(Http404):
        access.require(users.officer, "watchlist", "view")
    with pytest.raises(PermissionDenied):
        access.require(users.oversight, "watchlist", "approve", _Entry(users.contributor.pk))
    denied = AuditEvent.objects.filter(outcome="denied").values_list("actor_username", flat=True)
    assert set(denied) == {"off", "ovs"}


def test_it_denies_inactive_users_everything(users):
    users.admin.is_active = False
    assert not access.can(users.admin, "camera", "manage")
    assert not access.can_see(users.admin, "audit")


@pytest.mark.parametrize(
    "who, allowed",
    [("oversight", True), ("admin", True), ("command", False), ("officer", False)],
)
def test_it_lets_only_oversight_and_admin_read_the_audit_log(users, who, allowed):
    assert access.can(getattr(users, who), "audit", "view") is allowed
    assert not access.can(getattr(users, who), "audit", "edit")


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_role_groups_after_a_flush():
    # Transactional tests flush every table; post_migrate puts the roles back.
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("flush", "--noinput", verbosity=0)
    groups = {g.name: {p.codename for p in g.permissions.all()} for g in Group.objects.all()}
    assert groups == {role: set(caps) for role, caps in access.ROLE_CAPABILITIES.items()}


def test_it_keeps_a_denial_that_its_transaction_rolled_back(users, rf):
    from django.db import transaction
    from django.http import HttpResponseNotFound

    from core.middleware import RequestContextMiddleware

    def view(request):
        try:
            with transaction.atomic():  # a service that checks permission inside its transaction
                access.require(users.officer, "watchlist", "view")
        except Http404:
            return HttpResponseNotFound()

    response = RequestContextMiddleware(view)(rf.get("/watchlists/"))
    assert response.status_code == 404
    denied = AuditEvent.objects.filter(outcome="denied", action="watchlist.view")
    assert list(denied.values_list("actor_username", flat=True)) == ["off"]
    assert denied.get().request_id == response["X-Request-ID"]


def test_it_does_not_write_a_denial_twice(users, client):
    sign_in(client, users.officer)
    assert client.get("/watchlists/").status_code == 404
    assert AuditEvent.objects.filter(outcome="denied", actor_username="off").count() == 1


def test_it_shows_the_health_link_exactly_to_those_the_health_page_admits(client, db):
    # A capability outside the health rule (the audit log's) must not open the page
    # while the navigation hides its link, or the other way round.
    from django.contrib.auth.models import Permission

    from tests.helpers import make_user

    auditor = make_user("auditor")
    auditor.user_permissions.add(Permission.objects.get(codename="view_audit"))
    sign_in(client, auditor)
    shown = {item["label"] for item in client.get(reverse("home")).context["nav_items"]}
    assert client.get(reverse("health")).status_code == (200 if "Health" in shown else 404)
