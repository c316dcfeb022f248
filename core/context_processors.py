from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from core import access, mfa, work

# (label, url name, kind, action): shown when access.can(user, kind, action) holds, the
# same rule the page itself requires.
NAV = [
    ("Deployments", "deployments:calendar", "deployment", "browse"),
    ("Watchlist", "watchlists:entries", "watchlist", "list"),
    ("Review queue", "watchlists:queue", "watchlist", "approve"),
    ("Submit entry", "watchlists:submit", "watchlist", "submit"),
    ("Bulk import", "watchlists:import", "watchlist_import", "create"),
    ("Live alerts", "recognition:consoles", "console", "list"),
    ("Audit", "oversight:audit", "audit", "list"),
    ("Reports", "oversight:reports", "report", "list"),
    ("Cameras", "deployments:cameras", "camera", "manage"),
    ("Health", "health", "health", "view"),
    ("Users", "users", "user", "list"),
    ("API tokens", "api_tokens", "api_token", "list"),
    ("Notices", "notices", "notice", "list"),
]


def _items(request) -> list[dict]:
    user = getattr(request, "user", None)
    items = []
    # Past the password but not the second factor: no way in is shown, only log out.
    if user is not None and user.is_authenticated and mfa.is_verified(request):
        counts = work.badges(work.waiting_for_request(request))
        for label, name, kind, action in NAV:
            if access.can(user, kind, action):
                url = reverse(name)
                items.append(
                    {
                        "label": label,
                        "url": url,
                        "active": request.path.startswith(url),
                        "badge": counts.get(name, 0),
                    }
                )
    return items


def navigation(request):
    user = getattr(request, "user", None)
    return {
        # Lazy: a partial (a polled fragment) that shows no navigation asks nothing.
        "nav_items": SimpleLazyObject(lambda: _items(request)),
        "user_roles": [access.ROLE_LABELS[r] for r in access.roles(user)] if user else [],
    }
