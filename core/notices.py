"""In-app notices: writes and reads of core.Notice (kept apart from the audit services).

A service that changes something a person must know about (assigned to a deployment, a
deployment live, an authorisation asked for or decided, an entry decided) calls
`notify` inside its transaction; the notice is a pointer to the work, never its content:
no watchlist intelligence, no images, only references, places and times.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from core.models import Notice


def holders(capability: str):
    """Active users holding a capability through a role (or directly)."""
    rule = Q(groups__permissions__codename=capability) | Q(user_permissions__codename=capability)
    return get_user_model().objects.filter(rule, is_active=True).distinct()


def notify(*, users, kind: str, text: str, url: str = "", exclude=None) -> int:
    """One notice to each user (a queryset or an iterable); the number written."""
    skip = getattr(exclude, "pk", exclude)
    rows = [
        Notice(user_id=getattr(u, "pk", u), kind=kind, text=text[:300], url=url[:300])
        for u in users
        if getattr(u, "pk", u) != skip
    ]
    Notice.objects.bulk_create(rows)
    return len(rows)


def notices_for(user, *, unread_only: bool = False):
    qs = Notice.objects.filter(user=user)
    return qs.filter(read_at__isnull=True) if unread_only else qs


def notices_mark_read(*, user, ids=None) -> int:
    qs = Notice.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def notices_settle(*, urls) -> int:
    """The work these notices point at is done (decided, ended): they are no longer new
    for anyone. The number settled."""
    unread = Notice.objects.filter(url__in=list(urls), read_at__isnull=True)
    return unread.update(read_at=timezone.now())


def waiting_for(user) -> list:
    from django.urls import reverse

    from core.work import FIRST_ITEMS, Waiting

    unread = notices_for(user, unread_only=True)
    return [
        Waiting(
            key="notice.unread",
            label="new notices",
            one="new notice",
            count=unread.count(),
            url=reverse("notices"),
            nav="notices",
            items=[(n.text, n.url or reverse("notices")) for n in unread[:FIRST_ITEMS]],
        )
    ]
