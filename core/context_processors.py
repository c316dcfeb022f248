from django.urls import NoReverseMatch, reverse

from core import access

# (label, url name, kind, action): shown when access.can(user, kind, action) holds.
NAV = [
    ("Deployments", "deployments:calendar", "deployments_nav", None),
    ("Watchlist", "watchlists:entries", "watchlist", "list"),
    ("Review queue", "watchlists:queue", "watchlist", "approve"),
    ("Submit entry", "watchlists:submit", "watchlist", "submit"),
    ("Live alerts", "recognition:consoles", "alerts_nav", None),
    ("Audit", "oversight:audit", "audit", "list"),
    ("Reports", "oversight:reports", "report", "list"),
    ("Cameras", "deployments:cameras", "camera", "manage"),
    ("Health", "health", "health_nav", None),
]


def _shown(user, kind, action) -> bool:
    if kind == "deployments_nav":
        return access.can_see(user, "camera")  # command, authorising, oversight, admin
    if kind == "alerts_nav":
        return access.has(user, "watch_alerts") or access.has(user, "read_all")
    if kind == "health_nav":
        return access.has(user, "manage_cameras") or access.has(user, "read_all")
    return access.can(user, kind, action)


def navigation(request):
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        for label, name, kind, action in NAV:
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue  # that page is not built yet
            if _shown(user, kind, action):
                items.append({"label": label, "url": url, "active": request.path.startswith(url)})
    return {
        "nav_items": items,
        "user_roles": [access.ROLE_LABELS[r] for r in access.roles(user)] if user else [],
    }
