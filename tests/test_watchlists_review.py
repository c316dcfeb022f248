"""Issue 26: reviewing the queue is the manager's work, not misuse. After a decision the
manager sees the next entry (not the whole queue again), each image read is counted once
per image and purpose, and the oversight flag counts only reads beyond the work."""

import html
import re
from urllib.parse import urlencode

from django.urls import reverse

from core.models import AuditEvent
from oversight.selectors.audit import audit_flags
from tests.fixtures_deployments import make_entry
from tests.helpers import sign_in

PURPOSE = "Review of pending entries, ticket WL-7"


def _load_images(client, page) -> int:
    """What a browser does with the page: fetch every image it shows."""
    sources = re.findall(r'<img src="([^"]+)"', page.content.decode())
    for src in sources:
        assert client.get(html.unescape(src)).status_code == 200
    return len(sources)


def _decide_first(client, page):
    body = page.content.decode()
    action = re.search(r'<form method="post" action="(/watchlists/entries/\d+/approve/)"', body)
    back = re.search(r'name="next" value="([^"]*)"', body)
    return client.post(
        action.group(1),
        {"reason": "Meets the wanted criteria", "next": html.unescape(back.group(1))},
        follow=True,
    )


def _queue(client):
    return client.get(f"{reverse('watchlists:queue')}?{urlencode({'purpose': PURPOSE})}")


def test_it_shows_the_next_entry_after_a_decision(client, users):
    first, second, _ = [make_entry(users.contributor, None, state="pending") for _ in range(3)]
    sign_in(client, users.manager)
    page = _decide_first(client, _queue(client))
    shown = re.findall(r'data-testid="queue-item" data-entry="(\d+)"', page.content.decode())
    assert shown == [str(second.pk)]
    assert b"2 entries await review" in page.content


def test_it_counts_an_image_read_once_per_purpose(client, users):
    make_entry(users.contributor, None, state="pending")
    sign_in(client, users.manager)
    for _ in range(3):
        _load_images(client, _queue(client))
    assert AuditEvent.objects.filter(action="watchlist.image_view").count() == 1


def test_a_manager_reviews_20_entries_without_a_misuse_flag(client, users):
    for _ in range(20):
        make_entry(users.contributor, None, state="pending")
    sign_in(client, users.manager)
    page, images = _queue(client), 0
    for _ in range(20):
        images += _load_images(client, page)
        page = _decide_first(client, page)
    assert b"Nothing awaits review" in page.content
    assert AuditEvent.objects.filter(action="watchlist.entry_approve").count() == 20
    flags = audit_flags(user=users.manager.username)
    assert flags["heavy_viewers"] == [], (images, flags["heavy_viewers"])


def test_reads_beyond_the_work_still_raise_the_flag(client, users):
    entries = [make_entry(users.contributor, None, state="approved") for _ in range(35)]
    sign_in(client, users.manager)
    for entry in entries:
        image = entry.images.get()
        url = reverse("watchlists:image", args=[image.pk])
        client.get(url, {"purpose": PURPOSE})
    assert audit_flags(user=users.manager.username)["heavy_viewers"]


def test_reads_after_the_decision_are_not_the_work(users):
    from core.services import audit_record

    entries = [make_entry(users.contributor, None, state="pending") for _ in range(35)]
    for entry in entries:
        audit_record(actor=users.manager, action="watchlist.entry_approve", obj=entry)
    for entry in entries:  # read again afterwards: not to decide them
        image = entry.images.get()
        audit_record(
            actor=users.manager,
            action="watchlist.image_view",
            obj=image,
            purpose=PURPOSE,
            details={"entry": entry.pk},
        )
    assert audit_flags(user=users.manager.username)["heavy_viewers"]
