"""The one place that decides "may this user do this to this object".

Pages, the API and websockets all ask here. Rules are per object kind. A user who may
not even see an object gets 404 (it might as well not exist); one who may see it but
not change it gets 403. Denials are audited. Objects are inspected by attribute (duck
typing), so this module imports none of the feature apps.
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


def _is_assigned(user, deployment) -> bool:
    return deployment.officers.filter(pk=user.pk).exists()


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
    if action in {"expire", "withdraw"}:
        own = obj is not None and getattr(obj, "submitted_by_id", None) == user.pk
        return visible, manager or (contributor and own)
    return visible, False


def _deployment(user, action, obj):
    staff_reader = any(
        has(user, c)
        for c in ("plan_deployment", "authorise_deployment", "read_all", "manage_cameras")
    )
    officer_view = has(user, "watch_alerts") and obj is not None and _is_assigned(user, obj)
    visible = staff_reader or officer_view or (action == "list" and has(user, "watch_alerts"))
    if action in {"view", "list"}:
        return visible, visible
    if action in {"create", "edit", "submit", "cancel", "stop", "review"}:
        return visible, has(user, "plan_deployment")
    if action in {"authorise", "refuse"}:
        requester = obj is not None and getattr(obj, "requested_by_id", None) == user.pk
        return visible, has(user, "authorise_deployment") and not requester
    if action == "signoff":
        # The oversight role's one write: signing off a post-deployment review.
        return visible, has(user, "read_all")
    if action == "watch":
        return visible, officer_view or has(user, "read_all")
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
    if action in {"hold", "release"}:
        return visible, holder
    return visible, False


def _camera(user, action, obj):
    visible = any(
        has(user, c)
        for c in ("plan_deployment", "authorise_deployment", "read_all", "manage_cameras")
    )
    if action in {"view", "list"}:
        return visible, visible
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


RULES = {
    "watchlist": _watchlist,
    "deployment": _deployment,
    "alert": _alert,
    "camera": _camera,
    "audit": _audit,
    "report": _report,
    "evaluation": _evaluation,
}


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
    """Raise Http404 for outsiders and PermissionDenied for read-only users; audit both."""
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
        raise PermissionDenied(f"You may not {action} this {kind}.")
    raise Http404(f"No such {kind}.")
