"""Issue 14.4: lists and searches of watchlist entries (references, names, cases, legal
bases) are consultations like an entry's detail: they need a purpose, and each request
leaves one audit row naming what was asked and how much was shown (not one per entry)."""

import pytest

from core.models import AuditEvent
from tests import fixtures_watchlists as fx

PURPOSE = "Review for case OP-7781"
API = "/api/v1/watchlist/entries/"


@pytest.fixture
def three(users):
    return [
        fx.submit_entry(users.contributor, "S-1"),
        fx.submit_entry(users.contributor, "S-2", result=fx.biden()),
        fx.submit_entry(users.contributor, "S-3", result=fx.openface("clapton-1.jpg")),
    ]


def _rows():
    return list(AuditEvent.objects.filter(action="watchlist.entry_list"))


@pytest.mark.parametrize("url", [API, f"{API}?q=S-1", "/watchlists/", "/watchlists/?q=S-1"])
def test_it_lists_nothing_without_a_purpose(login, users, three, url):
    response = login(users.manager).get(url)
    assert b"Subject S-" not in response.content  # the display names of the entries
    assert _rows() == []


def test_the_api_says_a_purpose_is_needed(login, users, three):
    response = login(users.manager).get(API)
    assert response.status_code == 400
    assert response.json()["rule"] == "purpose"


def test_the_queue_shows_nothing_without_a_purpose(login, users, three):
    response = login(users.manager).get("/watchlists/queue/")
    assert response.status_code == 200
    assert b"S-1" not in response.content and b"give a purpose" in response.content
    assert _rows() == []


@pytest.mark.parametrize("url", [API, "/watchlists/"])
def test_a_list_is_audited_once_with_its_purpose(login, users, three, url):
    response = login(users.manager).get(url, {"purpose": PURPOSE})
    assert response.status_code == 200
    assert b"S-1" in response.content and b"S-3" in response.content
    (row,) = _rows()
    assert row.actor_username == users.manager.username and row.purpose == PURPOSE
    assert row.details["matched"] == 3
    assert sorted(row.details["shown"]) == sorted(e.pk for e in three)


@pytest.mark.parametrize("url", [API, "/watchlists/"])
def test_a_search_is_audited_with_its_query(login, users, three, url):
    response = login(users.oversight).get(url, {"purpose": PURPOSE, "q": "S-2"})
    assert response.status_code == 200
    (row,) = _rows()
    assert row.details["filters"] == {"q": "S-2"}
    assert row.details["matched"] == 1 and row.details["shown"] == [three[1].pk]


def test_the_queue_is_audited_once_with_its_purpose(login, users, three):
    response = login(users.manager).get("/watchlists/queue/", {"purpose": PURPOSE})
    assert response.status_code == 200 and b"S-2" in response.content
    (row,) = _rows()
    assert row.details["context"] == "queue" and row.details["matched"] == 3


def test_a_too_short_purpose_is_refused(login, users, three):
    response = login(users.manager).get(API, {"purpose": "x"})
    assert response.status_code == 400
    assert "at least" in response.json()["detail"]
    assert _rows() == []
