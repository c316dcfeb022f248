"""Every page and API endpoint × anonymous and every role × own/other object.

The endpoints are not typed here: pages come from the URL conf, API operations from the
OpenAPI schema (drf-spectacular's generator). Each must be listed in EXPECT with the
access rule it enforces, so a new page or endpoint fails `test_it_lists_every_endpoint`
by name until someone says who may use it. Each listed endpoint is then requested as
each identity, on an object of the user's own and on someone else's, and must answer as
core.access says for that object: allowed (anything but 401/403/404/405 and no 5xx),
read-only (403) or outsider (404); anonymous users go to the login page (pages) or get
401/403 (API). Which role holds which rule is pinned by tests/test_core_access.py; this
test pins that every endpoint asks the rule it names, and nothing else. Every answer of an
API operation must also be a status its schema documents, and every route and method under
/api/v1/ must be in the schema, so schemathesis (tests/test_schemathesis.py) misses none.
The case count is an assurance figure (docs/ASSURANCE.md, checked by the last test).

One world is built per module; each case runs in a savepoint that is rolled back.
"""

import functools
import re
from collections import Counter
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from drf_spectacular.generators import SchemaGenerator

from core import access
from deployments.models import Deployment
from recognition.models import Adjudication, Alert, EvaluationJob, EvaluationRun
from tests.factories import make_alert, make_deployment
from tests.figures import check_doc, write_figure
from tests.fixtures_console import reference_entry
from tests.helpers import sign_in
from watchlists.models import ImportJob, WatchlistEntry

# Marked so pytest-django sets the test database up; the world itself is built once.
pytestmark = pytest.mark.django_db

PUBLIC = "public"  # anyone, logged in or not
LOGIN = "login"  # any logged-in user
TOKEN = "token"  # a bearer token of its own (LFR_METRICS_TOKEN, unset here), never a session


@dataclass(frozen=True)
class E:
    rule: str  # "kind.action" in core.access.RULES, or PUBLIC / LOGIN
    obj: str | None = None  # which object of the world fills the URL: own and other
    method: str = "GET"  # pages only; an API operation's method is in its key
    kwargs: tuple = ()  # extra URL arguments (name, value)
    post: tuple = ()  # form fields; the value "pk" stands for the object's pk


# Pages by URL name; API operations by "METHOD /path" as the schema spells them.
EXPECT = {
    "home": E(LOGIN),
    "login": E(PUBLIC),
    "logout": E(PUBLIC, method="POST"),
    "mfa_verify": E(LOGIN),  # a verified session is sent on to where it was going
    "mfa_enrol": E(LOGIN),
    "mfa_reset": E("mfa_device.reset", "user"),
    "users": E("user.list"),
    "user": E("user.view", "user"),
    "health": E("health.view"),
    "health_live": E(PUBLIC),  # for load balancers: says nothing (tests/test_probes.py)
    "health_ready": E(PUBLIC),
    "metrics": E(TOKEN),
    "notices": E("notice.list"),
    "schema": E(LOGIN),  # not public (issue 14.9)
    "api_root": E(PUBLIC),
    "api_docs": E(LOGIN),
    "api_redoc": E(LOGIN),
    "api_redoc_script": E(LOGIN),
    "api_tokens": E("api_token.list"),
    "GET /api/v1/": E(LOGIN),
    "deployments:calendar": E("deployment.list"),
    "deployments:list": E("deployment.list"),
    "deployments:create": E("deployment.create"),
    "deployments:detail": E("deployment.view", "deployment"),
    "deployments:edit": E("deployment.edit", "deployment"),
    "deployments:submit": E("deployment.submit", "deployment", "POST"),
    "deployments:authorise": E("deployment.authorise", "deployment"),
    "deployments:cancel": E("deployment.cancel", "deployment", "POST"),
    "deployments:stop": E("deployment.stop", "deployment", "POST"),
    "deployments:walkthrough": E("deployment.walkthrough", "deployment", "POST"),
    "deployments:record": E("deployment.view", "deployment"),
    "deployments:signoff": E("deployment.signoff", "deployment", "POST"),
    "deployments:notice": E("deployment.notice", "deployment"),
    "deployments:notice_json": E("deployment.notice", "deployment"),
    "deployments:notice_sent": E("deployment.notify", "deployment", "POST"),
    "deployments:public_notice": E("deployment.withhold_notice", "deployment"),
    "deployments:independent": E("deployment.view", "deployment"),
    "deployments:independent_record": E("deployment.record_independent", "deployment", "POST"),
    "deployments:assessments": E("assessment.list"),
    "deployments:assessment_record": E("assessment.record", method="POST"),
    "deployments:cameras": E("camera.list"),
    "deployments:camera_edit": E("camera.manage", "camera"),
    # An unregistered URL answers 400 to the allowed; what a real test says is in
    # tests/test_camera_health_test.py.
    "deployments:camera_test": E("camera.test", method="POST"),
    "recognition:consoles": E("console.list"),
    "recognition:console": E("deployment.watch", "deployment"),
    "recognition:camera_status": E("deployment.view", "deployment"),
    "recognition:cameras_health": E("camera.health"),
    "recognition:alert_crop": E("alert.crop", "alert"),
    "recognition:alert_reference": E("alert.reference", "alert"),
    "recognition:adjudicate": E("alert.adjudicate", "alert", "POST"),
    "recognition:verify": E("alert.adjudicate", "alert", "POST"),
    "oversight:index": E(PUBLIC),  # a redirect to the reports page, which asks
    "oversight:reports": E("report.list"),
    "oversight:effectiveness": E("report.view"),
    "oversight:accuracy": E("evaluation.view"),
    "oversight:evaluation_start": E("evaluation_job.create"),
    "oversight:evaluation_job": E("evaluation_job.view", "eval_job"),
    "oversight:equality": E("report.view"),
    "oversight:retention": E("alert.list"),
    "oversight:hold_place_by_id": E("alert.hold", "alert", "POST", post=(("alert", "pk"),)),
    "oversight:hold_place": E("alert.hold", "alert", "POST"),
    "oversight:hold_release": E("alert.release", "alert", "POST"),
    "oversight:audit": E("audit.list"),
    "oversight:audit_verify": E("audit.verify", method="POST"),
    "oversight:art12_log": E("audit.export"),
    "oversight:subjects": E("subject.view"),
    "oversight:subject_history": E("subject.view", "reference"),
    "watchlists:entries": E("watchlist.list"),
    "watchlists:queue": E("watchlist.view"),
    "watchlists:submit": E("watchlist.submit"),
    "watchlists:import": E("watchlist_import.create"),
    "watchlists:import_job": E("watchlist_import.view", "import_job"),
    "watchlists:check": E("watchlist.submit", method="POST"),
    "watchlists:entry": E("watchlist.view", "entry"),
    "watchlists:act": E("watchlist.approve", "entry", "POST", (("action", "approve"),)),
    "watchlists:subject": E("watchlist.view", "subject"),
    "watchlists:image": E("watchlist.view", "image"),
    "favicon": E(PUBLIC),
    "transparency:index": E(PUBLIC),
    "transparency:csv": E(PUBLIC),
    "transparency:notices": E(PUBLIC),
    "transparency:annual": E(PUBLIC, kwargs=(("year", 2026),)),
    "transparency:annual_csv": E(PUBLIC, kwargs=(("year", 2026),)),
    "transparency:annual_json": E(PUBLIC, kwargs=(("year", 2026),)),
    "GET /transparency/deployments.json": E(PUBLIC),
    "GET /api/v1/deployments/": E("deployment.list"),
    "POST /api/v1/deployments/": E("deployment.create"),
    "POST /api/v1/deployments/create/": E("deployment.create"),
    "GET /api/v1/deployments/calendar/": E("deployment.list"),
    "GET /api/v1/deployments/{id}/": E("deployment.view", "deployment"),
    "PATCH /api/v1/deployments/{id}/": E("deployment.edit", "deployment"),
    "POST /api/v1/deployments/{id}/update/": E("deployment.edit", "deployment"),
    "POST /api/v1/deployments/{id}/submit/": E("deployment.submit", "deployment"),
    "GET /api/v1/deployments/{id}/authorisation/": E("deployment.authorise", "deployment"),
    "POST /api/v1/deployments/{id}/authorise/": E("deployment.authorise", "deployment"),
    "POST /api/v1/deployments/{id}/refuse/": E("deployment.refuse", "deployment"),
    "POST /api/v1/deployments/{id}/independent-authorisation/": E(
        "deployment.record_independent", "deployment"
    ),
    "POST /api/v1/deployments/{id}/cancel/": E("deployment.cancel", "deployment"),
    "POST /api/v1/deployments/{id}/stop/": E("deployment.stop", "deployment"),
    "GET /api/v1/deployments/{id}/record/": E("deployment.view", "deployment"),
    "POST /api/v1/deployments/{id}/review/": E("deployment.review", "deployment"),
    "POST /api/v1/deployments/{id}/signoff/": E("deployment.signoff", "deployment"),
    "GET /api/v1/deployments/sites/": E("camera.list"),
    "POST /api/v1/deployments/sites/": E("camera.manage"),
    "POST /api/v1/deployments/sites/create/": E("camera.manage"),
    "GET /api/v1/deployments/cameras/": E("camera.list"),
    "POST /api/v1/deployments/cameras/": E("camera.manage"),
    "POST /api/v1/deployments/cameras/create/": E("camera.manage"),
    "PATCH /api/v1/deployments/cameras/{id}/": E("camera.manage", "camera"),
    "POST /api/v1/deployments/cameras/{id}/update/": E("camera.manage", "camera"),
    "POST /api/v1/deployments/cameras/test/": E("camera.test"),
    "GET /api/v1/recognition/deployments/{deployment_id}/alerts/": E(
        "deployment.watch", "deployment"
    ),
    "POST /api/v1/recognition/alerts/{alert_id}/adjudication/": E("alert.adjudicate", "alert"),
    "POST /api/v1/recognition/alerts/{alert_id}/verification/": E("alert.adjudicate", "alert"),
    "GET /api/v1/recognition/cameras/health/": E("camera.health"),
    "GET /api/v1/recognition/deployments/{deployment_id}/cameras/health/": E(
        "deployment.view", "deployment"
    ),
    "POST /api/v1/recognition/adjudications/{adjudication_id}/correction/": E(
        "alert.adjudicate", "adjudication"
    ),
    "GET /api/v1/oversight/audit/events/": E("audit.list"),
    "GET /api/v1/oversight/audit/flags/": E("audit.list"),
    "GET /api/v1/oversight/audit/verification/": E("audit.view"),
    "POST /api/v1/oversight/audit/verification/": E("audit.verify"),
    "GET /api/v1/oversight/reports/effectiveness/": E("report.view"),
    "GET /api/v1/oversight/reports/accuracy/": E("evaluation.list"),
    "GET /api/v1/oversight/reports/accuracy/{run_id}/": E("evaluation.view", "run"),
    "GET /api/v1/oversight/reports/equality/": E("report.view"),
    "GET /api/v1/oversight/retention/": E("alert.list"),
    "GET /api/v1/oversight/holds/": E("alert.list"),
    "POST /api/v1/oversight/alerts/{alert_id}/hold/": E("alert.hold", "alert"),
    "POST /api/v1/oversight/alerts/{alert_id}/release/": E("alert.release", "alert"),
    "GET /api/v1/oversight/subjects/{reference}/history/": E("subject.view", "reference"),
    "GET /api/v1/watchlist/entries/": E("watchlist.list"),
    "POST /api/v1/watchlist/entries/": E("watchlist.submit"),
    "GET /api/v1/watchlist/entries/{entry_id}/": E("watchlist.view", "entry"),
    "POST /api/v1/watchlist/entries/{entry_id}/approve/": E("watchlist.approve", "entry"),
    "POST /api/v1/watchlist/entries/{entry_id}/reject/": E("watchlist.reject", "entry"),
    "POST /api/v1/watchlist/entries/{entry_id}/withdraw/": E("watchlist.withdraw", "entry"),
    "POST /api/v1/watchlist/entries/{entry_id}/expire/": E("watchlist.expire", "entry"),
    "GET /api/v1/watchlist/images/{image_id}/": E("watchlist.view", "image"),
    "POST /api/v1/watchlist/check/": E("watchlist.submit"),
}

# Nothing is left out: the Django admin site is closed (issue 26).
NOT_OURS = set()
ROLES = {
    "command": access.COMMAND_STAFF,
    "authoriser": access.AUTHORISING_OFFICER,
    "contributor": access.WATCHLIST_CONTRIBUTOR,
    "manager": access.WATCHLIST_MANAGER,
    "officer": access.OFFICER,
    "oversight": access.OVERSIGHT,
    "admin": access.ADMIN,
    "nobody": None,
}
IDENTITIES = [None, *ROLES]  # None: anonymous


def _walk(patterns, namespace=None):
    """(URL name, its argument names) of every route in the URL conf but NOT_OURS."""
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace not in NOT_OURS:
                yield from _walk(p.url_patterns, p.namespace or namespace)
        else:
            name = f"{namespace}:{p.name}" if namespace else p.name
            yield name, set(getattr(p.pattern, "converters", {}))


@functools.cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _schema_operations() -> dict[str, str]:
    """{"METHOD /path": URL name} for every operation the OpenAPI schema documents."""
    found = {}
    for path, operations in _schema()["paths"].items():
        match = resolve(re.sub(r"\{[^}]+\}", "1", path))
        for method in operations:
            found[f"{method.upper()} {path}"] = match.view_name
    return found


def _documented_statuses(key: str) -> set[int]:
    method, path = key.split(" ", 1)
    return {int(s) for s in _schema()["paths"][path][method.lower()]["responses"]}


def endpoints() -> set[str]:
    operations = _schema_operations()
    served_by_api = set(operations.values())
    pages = {name for name, _ in _walk(get_resolver().url_patterns) if name not in served_by_api}
    return pages | set(operations)


def _api_routes():
    """(URL name, view class) of every route under /api/v1/ (the JSON API)."""
    for pattern_path, name, view in _routes(get_resolver().url_patterns):
        if pattern_path.startswith("api/v1/"):
            yield name, view


def _routes(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace not in NOT_OURS:
                yield from _routes(
                    p.url_patterns, prefix + str(p.pattern), p.namespace or namespace
                )
        else:
            name = f"{namespace}:{p.name}" if namespace else p.name
            yield prefix + str(p.pattern), name, getattr(p.callback, "cls", None)


def test_every_api_route_and_method_is_in_the_schema():
    """So the matrix and schemathesis (which read the schema) miss no API endpoint."""
    documented = Counter()
    for key, name in _schema_operations().items():
        documented[(name, key.split(" ", 1)[0])] += 1
    missing = []
    for name, view in _api_routes():
        verbs = ("get", "post", "put", "patch", "delete")
        methods = [m.upper() for m in verbs if view and hasattr(view, m)]
        assert methods, f"{name} is not a DRF APIView"
        missing += [f"{m} {name}" for m in methods if not documented[(name, m)]]
    assert missing == [], "API routes and methods the OpenAPI schema does not document"


def test_it_lists_every_endpoint():
    found = endpoints()
    assert sorted(found - set(EXPECT)) == [], "endpoints with no access expectation"
    assert sorted(set(EXPECT) - found) == [], "expectations for endpoints that are gone"


# --- the world: two of everything, one the user's own and one someone else's -----------


def build_world():
    """Every role's user, and two of every object: the user's own and someone else's."""
    users = {}
    for name, role in ROLES.items():
        users[name] = get_user_model().objects.create(username=f"mx-{name}")
        if role:
            users[name].groups.add(Group.objects.get(name=role))
    other_requester = get_user_model().objects.create(username="mx-command2")
    other_requester.groups.add(Group.objects.get(name=access.COMMAND_STAFF))
    other_contributor = get_user_model().objects.create(username="mx-contributor2")
    other_contributor.groups.add(Group.objects.get(name=access.WATCHLIST_CONTRIBUTOR))
    other_officer = get_user_model().objects.create(username="mx-officer2")
    other_officer.groups.add(Group.objects.get(name=access.OFFICER))

    class Staff:  # what reference_entry reads
        contributor, manager = users["contributor"], users["manager"]

    own_entry = reference_entry(Staff, "obama.jpg")
    other_entry = reference_entry(Staff, "biden.jpg")
    # The manager's own submission: the two-person rule keeps them from deciding it.
    WatchlistEntry.objects.filter(pk=other_entry.pk).update(
        submitted_by=users["manager"], state=WatchlistEntry.State.PENDING
    )
    WatchlistEntry.objects.filter(pk=own_entry.pk).update(state=WatchlistEntry.State.PENDING)
    own_entry.refresh_from_db()
    other_entry.refresh_from_db()
    objects = {}
    for side, requester, officer, entry, contributor in [
        ("own", users["command"], users["officer"], own_entry, users["contributor"]),
        ("other", other_requester, other_officer, other_entry, other_contributor),
    ]:
        deployment = make_deployment(officers=[officer], requested_by=requester)
        alert = make_alert(deployment)
        adjudication = Adjudication.objects.create(
            alert=alert, by=officer, is_true_match=False, confirmed=True, outcome="no_action"
        )
        objects[side] = {
            "deployment": deployment,
            "camera": deployment.cameras.get(),
            "alert": alert,
            "adjudication": adjudication,
            "entry": entry,
            "user": requester,
            "image": entry.images.get(),
            "subject": entry.subject,
            "reference": entry.subject,
            "import_job": ImportJob.objects.create(by=contributor, source_name="matrix"),
            "eval_job": EvaluationJob.objects.create(by=users["oversight"], source_name="matrix"),
            "run": EvaluationRun.objects.create(
                dataset="matrix", pairs=1, operating_threshold=0.5, thresholds=[]
            ),
        }
    return users, objects


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def _rule_object(what: str | None, obj):
    """What core.access inspects for the object that fills the URL."""
    if what in {"adjudication", "image"}:
        return obj.alert if what == "adjudication" else obj.entry
    if what in {"deployment", "alert", "entry", "camera", "import_job"}:
        return obj
    return None  # subjects and runs: their kind's rule reads no object


def _url(key: str, spec: E, obj) -> tuple[str, str]:
    value = (obj.reference if spec.obj == "reference" else obj.pk) if obj is not None else None
    if " " in key:  # an API operation
        method, path = key.split(" ", 1)
        return method, re.sub(r"\{[^}]+\}", str(value), path)
    kwargs = dict(spec.kwargs)
    (argument,) = dict(_walk(get_resolver().url_patterns))[key] - set(kwargs) or {None}
    if argument is not None:
        kwargs[argument] = value
    return spec.method, reverse(key, kwargs=kwargs)


def _expected(spec: E, user, obj) -> str:
    if spec.rule == TOKEN:
        return "outsider"
    if spec.rule == PUBLIC:
        return "allowed"
    if user is None:
        return "anonymous"
    if spec.rule == LOGIN:
        return "allowed"
    kind, action = spec.rule.split(".")
    target = _rule_object(spec.obj, obj)
    if access.can(user, kind, action, target):
        return "allowed"
    return "read-only" if access.can_see(user, kind, target) else "outsider"


def _outcome(response, *, api: bool, anonymous: bool) -> str:
    status, location = response.status_code, response.get("Location", "")
    to_login = status == 302 and "/accounts/login/" in location
    if to_login or (api and anonymous and status in (401, 403)):
        return "anonymous"
    if status == 404:
        return "outsider"
    if status == 403:
        return "read-only"
    if status in (401, 405) or status >= 500:
        return f"status {status}"
    return "allowed"


CASES = Counter()  # expected outcome -> how many cases
REASON = "Matrix case: a reason long enough to pass any form"


@pytest.mark.parametrize("key", sorted(EXPECT))
def test_it_answers_each_identity_as_access_says(world, key):
    users, objects = world
    spec = EXPECT[key]
    api = " " in key
    sides = ["own", "other"] if spec.obj else ["own"]
    wrong = []
    for who in IDENTITIES:
        user = users[who] if who else None
        for side in sides:
            obj = objects[side][spec.obj] if spec.obj else None
            method, url = _url(key, spec, obj)
            # A reason is what most actions ask for: with it a refusal comes from the
            # access rule, not from a form left empty.
            data = {"reason": REASON, **{k: (obj.pk if v == "pk" else v) for k, v in spec.post}}
            with transaction.atomic():
                client = Client()
                if user is not None:
                    sign_in(client, user)
                response = getattr(client, method.lower())(url, data)
                transaction.set_rollback(True)
            got = _outcome(response, api=api, anonymous=user is None)
            if api and response.status_code not in _documented_statuses(key):
                wrong.append(f"{who or 'anonymous'}/{side}: {response.status_code} undocumented")
            if spec.rule == PUBLIC and got == "anonymous":
                got = "allowed"  # a public page may send anyone on to log in (logout does)
            want = _expected(spec, user, obj)
            CASES[want] += 1
            if got != want:
                status = response.status_code
                wrong.append(f"{who or 'anonymous'}/{side}: want {want}, got {got} ({status})")
    assert wrong == [], f"{key} ({spec.rule})"


@pytest.mark.parametrize("who", ROLES)
def test_its_lists_show_exactly_the_rows_the_object_rule_allows(world, who):
    users, _ = world
    user = users[who]
    deployments = Deployment.objects.all()
    listed = set(access.restrict(user, "deployment", "list", deployments))
    assert listed == {d for d in deployments if access.can_see(user, "deployment", d)}
    alerts = Alert.objects.all()
    listed = set(access.restrict(user, "alert", "list", alerts))
    assert listed == {a for a in alerts if access.can_see(user, "alert", a)}
    # A console listed is one the user may open.
    for d in access.restrict(user, "console", "list", deployments):
        assert access.can(user, "deployment", "watch", d)


@pytest.mark.parametrize("who", ROLES)
def test_its_navigation_never_links_to_a_page_that_refuses(world, who):
    from core.context_processors import NAV

    user = world[0][who]
    for label, name, kind, action in NAV:
        page = EXPECT[name].rule.split(".")
        if access.can(user, kind, action):
            assert access.can(user, *page), f"{label} is shown but {name} refuses {who}"


def _planned_cases() -> int:
    return sum(len(IDENTITIES) * (2 if spec.obj else 1) for spec in EXPECT.values())


def test_it_reports_how_many_cases_it_ran(capsys):
    if CASES.total() != _planned_cases():
        pytest.skip("the whole matrix was not selected")
    api = sum(1 for key in EXPECT if " " in key)
    outcomes = ", ".join(f"{n} {want}" for want, n in sorted(CASES.items()))
    line = (
        f"access matrix: {len(EXPECT)} endpoints ({len(EXPECT) - api} pages, {api} API "
        f"operations) x {len(IDENTITIES)} identities x own/other: {CASES.total()} cases "
        f"({outcomes})"
    )
    write_figure(
        "access_matrix",
        {
            "endpoints": len(EXPECT),
            "api_operations": api,
            "cases": CASES.total(),
            "outcomes": dict(CASES),
        },
    )
    with capsys.disabled():
        print(f"\n{line}")
    check_doc(line)
