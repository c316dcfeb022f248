"""The one place that decides "may this user do this to this object" — and "which rows".

Pages, the API, navigation, websockets and services all ask here; nobody else tests a
role or a capability to decide access. Rules are per object kind (`RULES`): each says,
for a user, an action and perhaps an object, whether the user may *see* it and whether
they may *do* it. `restrict()` is the same rule for a queryset (netbox's
`restrict(user, action)`), so a list never shows a row its detail page would refuse.
Objects are inspected by attribute and querysets filtered by field name, so this module
imports none of the feature apps.

One convention for a denial:
- `require()` is the only place a denial is raised, and it writes the denial's audit row
  (once). It raises `NotVisible` (an `Http404`) to a user who may not see the object —
  it might as well not exist — and `Forbidden` (a `PermissionDenied`) to one who may see
  it but not do this. Django's handlers and DRF's exception handler turn those into 404
  and 403 as they are. A websocket has no 404: its consumer asks `can()` on connect
  and on every event and closes with 4403.
- Services that act for a user call `require(by, kind, action, obj)` themselves, so a
  caller that forgot cannot slip past; a view that already asked costs nothing more
  (only denials are audited). Services never test roles and never raise their own
  permission errors; a missing object is still a plain `Http404`.
- `can()` only decides what to show (a button, a nav item); it raises nothing.
"""

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from core import request_context

# Role (group) names, as created by core/migrations/0002_roles.py.
COMMAND_STAFF = "command_staff"
AUTHORISING_OFFICER = "authorising_officer"
WATCHLIST_CONTRIBUTOR = "watchlist_contributor"
WATCHLIST_MANAGER = "watchlist_manager"
OFFICER = "officer"
OVERSIGHT = "oversight"
ADMIN = "admin"

ROLE_LABELS = {
    COMMAND_STAFF: "Command staff",
    AUTHORISING_OFFICER: "Authorising officer",
    WATCHLIST_CONTRIBUTOR: "Watchlist contributor",
    WATCHLIST_MANAGER: "Watchlist manager",
    OFFICER: "Officer",
    OVERSIGHT: "Oversight",
    ADMIN: "Administrator",
}

# Capabilities each role holds (permission codenames on core.Capability).
ROLE_CAPABILITIES = {
    COMMAND_STAFF: ["plan_deployment", "place_legal_hold"],
    AUTHORISING_OFFICER: ["authorise_deployment"],
    WATCHLIST_CONTRIBUTOR: ["submit_watchlist_entry"],
    WATCHLIST_MANAGER: ["approve_watchlist_entry"],
    OFFICER: ["watch_alerts"],
    OVERSIGHT: ["read_all", "view_audit"],
    ADMIN: ["manage_cameras", "view_audit", "place_legal_hold"],
}


def has(user, capability: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and user.has_perm(
        f"core.{capability}"
    )


def roles(user) -> list[str]:
    if not (user and user.is_authenticated):
        return []
    return sorted(g.name for g in user.groups.all() if g.name in ROLE_LABELS)


# Those who see every deployment and camera: the planning, authorising, oversight and
# camera-managing roles. Officers see only what they are assigned to.
STAFF_READER = ("plan_deployment", "authorise_deployment", "read_all", "manage_cameras")


def _any(user, capabilities) -> bool:
    return any(has(user, c) for c in capabilities)


def _is_assigned(user, deployment) -> bool:
    return deployment.officers.filter(pk=user.pk).exists()


def _is_person(user) -> bool:
    """A signed-in person, not an integration's API token (core/tokens.py): decisions
    such as a legal hold or stopping a live deployment belong to a named person."""
    return not hasattr(user, "api_token")


# --- per object kind: may see, may act ------------------------------------------------


def _watchlist(user, action, obj):
    reader = has(user, "read_all")
    contributor = has(user, "submit_watchlist_entry")
    manager = has(user, "approve_watchlist_entry")
    visible = reader or contributor or manager
    if action in {"view", "list"}:
        return visible, visible
    if action == "submit":
        return visible, contributor
    if action in {"approve", "reject"}:
        # Two-person rule: a manager never decides their own submission.
        own = obj is not None and getattr(obj, "submitted_by_id", None) == user.pk
        return visible, manager and not own
    if action == "withdraw":
        own = obj is not None and getattr(obj, "submitted_by_id", None) == user.pk
        return visible, manager or (contributor and own)
    if action == "expire":
        # An approved entry was a manager's decision: ending it early is a manager's too.
        return visible, manager
    return visible, False


def _deployment(user, action, obj):
    staff_reader = _any(user, STAFF_READER)
    officer_view = has(user, "watch_alerts") and obj is not None and _is_assigned(user, obj)
    visible = staff_reader or officer_view or (action == "list" and has(user, "watch_alerts"))
    if action in {"view", "list"}:
        return visible, visible
    if action == "browse":
        # The planning pages (calendar, list) in the navigation: staff only; an officer
        # reaches their deployments through the console list.
        return visible, staff_reader
    if action == "stop":
        return visible, has(user, "plan_deployment") and _is_person(user)
    if action in {"create", "edit", "submit", "cancel", "review"}:
        return visible, has(user, "plan_deployment")
    if action in {"authorise", "refuse"}:
        requester = obj is not None and getattr(obj, "requested_by_id", None) == user.pk
        return visible, has(user, "authorise_deployment") and not requester
    if action == "notice":
        # The notice of each use to the authorities (Art. 5(4)): planners, authorisers and
        # oversight read it; only planners and authorisers record it as sent.
        return visible, _any(user, ("plan_deployment", "authorise_deployment", "read_all"))
    if action == "notify":
        return visible, _any(user, ("plan_deployment", "authorise_deployment"))
    if action == "withhold_notice":
        # Advance public notice is the authorising officer's call, never the requester's.
        requester = obj is not None and getattr(obj, "requested_by_id", None) == user.pk
        return visible, has(user, "authorise_deployment") and not requester
    if action == "record_independent":
        # Recording the independent authority's decision (Art. 5(3)) is paperwork of the
        # planners and authorisers, never an officer's; oversight reads it on the page.
        return visible, _any(user, ("plan_deployment", "authorise_deployment"))
    if action == "signoff":
        # The oversight role's one write: signing off a post-deployment review.
        return visible, has(user, "read_all")
    if action == "watch":
        return visible, officer_view or has(user, "read_all")
    if action == "adjudicate":
        # Only the officers assigned decide its alerts; a reader watches read-only.
        return visible, officer_view
    if action == "walkthrough":
        # Blue-list walk-throughs: command staff, who plan the tests, and the officers
        # assigned, who see them happen; oversight reads them but records none.
        return visible, has(user, "plan_deployment") or officer_view
    return visible, False


def _alert(user, action, obj):
    deployment = getattr(obj, "deployment", None) if obj is not None else None
    assigned = (
        has(user, "watch_alerts") and deployment is not None and _is_assigned(user, deployment)
    )
    reader = has(user, "read_all")
    holder = has(user, "place_legal_hold")
    visible = assigned or reader or holder
    if action in {"view", "list"}:
        return visible, visible
    if action == "adjudicate":
        return visible, assigned
    if action == "crop":
        # The probe face: the deployment's officers and oversight; holders see that an
        # alert exists (to hold it), not whose face it caught.
        return visible, assigned or reader
    if action == "reference":
        # The watchlist photo: the officers comparing it, and whoever reads the watchlist.
        return visible, assigned or _watchlist(user, "view", None)[0]
    if action in {"hold", "release"}:
        return visible, holder and _is_person(user)
    return visible, False


def _camera(user, action, obj):
    visible = _any(user, STAFF_READER)
    if action in {"view", "list", "health"}:
        # "health": the live cameras' stream health, read by everyone who sees cameras.
        return visible, visible
    # Everything else changes cameras, or ("test") opens a URL from the server, which
    # reaches whatever the server can reach: administrators only.
    return visible, has(user, "manage_cameras")


def _audit(user, action, obj):
    visible = has(user, "view_audit")
    return visible, visible and action in {"view", "list", "export", "verify"}


def _report(user, action, obj):
    visible = any(has(user, c) for c in ("read_all", "plan_deployment", "authorise_deployment"))
    return visible, visible and action in {"view", "list", "export"}


def _evaluation(user, action, obj):
    visible = any(has(user, c) for c in ("read_all", "authorise_deployment", "manage_cameras"))
    if action in {"view", "list", "export"}:
        return visible, visible
    return visible, has(user, "manage_cameras")


def _evaluation_job(user, action, obj):
    """Evaluations started from the accuracy page: oversight and administrators run
    them and follow any such run (figures only: the upload is gone once read)."""
    visible = has(user, "read_all") or has(user, "manage_cameras")
    return visible, visible and action in {"create", "view"}


def _console(user, action, obj):
    """The live-alert consoles as a whole (one console is `deployment` "watch")."""
    visible = has(user, "watch_alerts") or has(user, "read_all")
    return visible, visible and action in {"view", "list"}


def _subject(user, action, obj):
    """A subject's history across apps: watchlist records and the alerts about them, so
    only someone who may read both (oversight) reads it."""
    visible = can(user, "watchlist", "view") and can(user, "alert", "list")
    return visible, visible and action in {"view", "list"}


def _assessment(user, action, obj):
    """The force-wide assessments (DPIA, policy, equality, FRIA, EU registration): read by
    every staff reader; a new approved version is recorded by an authorising officer or
    an administrator."""
    visible = _any(user, STAFF_READER)
    if action in {"view", "list"}:
        return visible, visible
    if action == "record":
        return visible, _any(user, ("authorise_deployment", "manage_cameras"))
    return visible, False


def _health(user, action, obj):
    """The health page shows the platform's plumbing: for those who run or audit it."""
    visible = has(user, "manage_cameras") or has(user, "read_all")
    return visible, visible and action == "view"


def _watchlist_import(user, action, obj):
    """Bulk imports from the page: a contributor's own jobs; nobody reads another's."""
    contributor = has(user, "submit_watchlist_entry")
    own = obj is None or getattr(obj, "by_id", None) == user.pk
    visible = contributor and own
    return visible, visible and action in {"create", "view"}


def _api_token(user, action, obj):
    """Integration tokens are administered by administrators (core/tokens.py)."""
    admin = has(user, "manage_cameras")
    return admin, admin and action in {"list", "create", "revoke"}


def _notice(user, action, obj):
    """Notices are each user's own: any signed-in user reads and clears theirs."""
    visible = bool(user and user.is_authenticated and user.is_active)
    return visible, visible and action in {"view", "list"}


def _mfa_device(user, action, obj):
    """Resetting another user's second factor: for those who manage users (core/mfa.py)."""
    allowed = has(user, "manage_cameras")
    return allowed, allowed


def _user(user, action, obj):
    """People's accounts (core/users.py): administered by the admin role, which manages
    users. Never one's own role, access or second factor: a stolen administrator's session
    must not keep itself in, nor lock the others out; a second administrator does it."""
    admin = has(user, "manage_cameras")
    if action in {"view", "list", "create"}:
        return admin, admin
    if action in {"change_role", "deactivate", "reactivate", "reset_mfa", "unlock"}:
        own = obj is not None and getattr(obj, "pk", None) == user.pk
        return admin, admin and not own
    return admin, False


RULES = {
    "user": _user,
    "api_token": _api_token,
    "notice": _notice,
    "watchlist_import": _watchlist_import,
    "watchlist": _watchlist,
    "deployment": _deployment,
    "alert": _alert,
    "camera": _camera,
    "audit": _audit,
    "report": _report,
    "evaluation": _evaluation,
    "evaluation_job": _evaluation_job,
    "console": _console,
    "subject": _subject,
    "health": _health,
    "assessment": _assessment,
    "mfa_device": _mfa_device,
}


class NotVisible(Http404):
    """Raised by `require()` to a user who may not see the object: shown as 404."""


class Forbidden(PermissionDenied):
    """Raised by `require()` to a user who may see the object but not do this: 403."""


# --- lists: the same rules, as querysets -------------------------------------------------

# Consoles a reader watches read-only: the deployments that are or may soon be live.
CONSOLE_STATES = ("live", "authorised")


def _deployment_rows(user, action, qs):
    if _any(user, STAFF_READER):
        return qs
    if has(user, "watch_alerts"):
        return qs.filter(officers=user)
    return qs.none()


def _console_rows(user, action, qs):
    if has(user, "read_all"):
        return qs.filter(state__in=CONSOLE_STATES)
    if has(user, "watch_alerts"):
        return qs.filter(officers=user)
    return qs.none()


def _alert_rows(user, action, qs):
    if has(user, "read_all") or has(user, "place_legal_hold"):
        return qs
    if has(user, "watch_alerts"):
        return qs.filter(deployment__officers=user)
    return qs.none()


# Kinds whose visibility depends on the row (for "view"/"list"); every other kind is
# all-or-nothing, decided by its object rule.
ROW_RULES = {
    "deployment": _deployment_rows,
    "console": _console_rows,
    "alert": _alert_rows,
}


def restrict(user, kind: str, action: str, qs):
    """`qs` cut to the rows `user` may see in a list (`can` answers for one row)."""
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    rows = ROW_RULES.get(kind)
    if rows is None:
        return qs if can(user, kind, action) else qs.none()
    if action not in {"view", "list"}:
        # Not written yet: guessing from the object rule without a row would be wrong.
        raise ValueError(f"restrict() has no row rule for {kind} {action!r}")
    return rows(user, action, qs)


def can(user, kind: str, action: str, obj=None) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    visible, allowed = RULES[kind](user, action, obj)
    return visible and allowed


def can_see(user, kind: str, obj=None) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return RULES[kind](user, "view", obj)[0]


def require(user, kind: str, action: str, obj=None) -> None:
    """Raise NotVisible (404) for outsiders and Forbidden (403) for read-only users; the
    denial is audited here, once."""
    if can(user, kind, action, obj):
        return
    from core.services import audit_record  # local: services imports models, keep this light

    visible = (
        bool(user and user.is_authenticated and user.is_active)
        and RULES[kind](user, action, obj)[0]
    )
    record = dict(
        actor=user,
        action=f"{kind}.{action}",
        obj=obj if hasattr(obj, "_meta") else None,
        object_type="" if hasattr(obj, "_meta") else kind,
        outcome="denied",
        details={"reason": "forbidden" if visible else "not visible"},
    )
    event = audit_record(**record)
    if connection.in_atomic_block:
        # The exception we raise may roll this row back with the caller's transaction;
        # the request middleware writes it again afterwards if so.
        request_context.remember_denial({**record, "hash": event.hash})
    if visible:
        raise Forbidden(f"You may not {action} this {kind}.")
    raise NotVisible(f"No such {kind}.")
