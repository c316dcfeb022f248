"""What waits for a user: each app names the work it holds; home and navigation show it.

Core imports no app. Each app registers a `waiting_for(user) -> list[Waiting]` in its
AppConfig.ready; the home page lists what is not zero, each with a link to the work and
its first few items one click away, and the navigation shows the counts as badges.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

# How many items a home card lists by name before "and N more".
FIRST_ITEMS = 5


@dataclass(frozen=True)
class Waiting:
    key: str  # stable, e.g. "watchlist.review"; tests and the page's testids use it
    label: str  # finishes "N ..." e.g. "entries wait for your review"
    count: int
    url: str  # the list where this work is done
    nav: str = ""  # URL name of the navigation item that carries the count as a badge
    items: list[tuple[str, str]] = field(default_factory=list)  # (text, url), oldest first
    urgent: bool = False
    one: str = ""  # the label when the count is 1 ("entry waits for your review")
    # How many items there are, when one item stands for several of the count ("2 alerts
    # on DEP-1"): "and N more" counts items left out, never the count less the items.
    listed: int | None = None

    @property
    def text(self) -> str:
        return self.one if self.count == 1 and self.one else self.label

    @property
    def more(self) -> int:
        total = self.count if self.listed is None else self.listed
        return max(0, total - len(self.items))


_PROVIDERS: list[Callable] = []


def register(provider: Callable) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def waiting_for(user) -> list[Waiting]:
    """Everything waiting for `user`, urgent first; nothing for anonymous users."""
    if not (user and user.is_authenticated and user.is_active):
        return []
    found = [w for provider in _PROVIDERS for w in provider(user) if w.count]
    return sorted(found, key=lambda w: not w.urgent)


def waiting_for_request(request) -> list[Waiting]:
    """Once per request: the home page and the navigation badges ask the same question."""
    if not hasattr(request, "_lfr_waiting"):
        request._lfr_waiting = waiting_for(getattr(request, "user", None))
    return request._lfr_waiting


def badges(waiting: list[Waiting]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in waiting:
        if w.nav:
            counts[w.nav] = counts.get(w.nav, 0) + w.count
    return counts
