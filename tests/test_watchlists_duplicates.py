"""One person under two subject references: caught at intake, shown, and gated at approval."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from recognition.engine.intake import inspect_image
from watchlists import services
from watchlists.models import WatchlistEntry

from tests import fixtures_watchlists as fx
from tests.helpers import data_path

S = WatchlistEntry.State
_CACHE: dict[str, object] = {}


def clapton(n: int = 1):
    """clapton-1.jpg / clapton-2.jpg from the openface sample set, inspected once."""
    name = f"clapton-{n}.jpg"
    if name not in _CACHE:
        path = data_path("faces", "openface", "images", "examples", name)
        _CACHE[name] = inspect_image(
            path.read_bytes(), max_bytes=10 * 2**20, max_pixels=40_000_000, min_face_px=80
        )
    return _CACHE[name]


@pytest.fixture
def held(users):
    """clapton-1.jpg approved under S-1."""
    return fx.approved_entry(users, "S-1", result=clapton(1))


def test_it_refuses_approval_without_a_reason_for_the_same_photo_under_another_subject(
    users, held
):
    # The reproduction: clapton-1.jpg proposed again as a new subject.
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(1))
    with pytest.raises(ValidationError, match="S-1"):
        services.entry_decide(entry_id=second.pk, by=users.manager, approve=True, reason="ok")
    second.refresh_from_db()
    assert second.state == S.PENDING


def test_it_shows_the_manager_the_other_subject_in_the_queue(users, held, login):
    second = fx.submit_entry(users.contributor, "S-2", result=clapton(1))
    page = login(users.manager).get("/watchlists/queue/").content.decode()
    item = page[page.index(f'data-entry="{second.pk}"') :]
    item = item[: item.index("</section>")]
    assert "S-1" in item and f"Entry {held.pk}" in item
