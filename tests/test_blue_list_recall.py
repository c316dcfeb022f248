"""Equity of recall: blue-list walk-throughs reported by the walker's perceived group, each
with its 95 % Wilson interval (unequal recall paused a force's field test, Essex 2026)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from core.stats import wilson_interval
from deployments import selectors, services
from tests.test_blue_list import _raise, _volunteer, world  # noqa: F401 (fixture)


def _walk(d, by, entry, start, group):
    return services.walkthrough_record(
        deployment=d,
        by=by,
        entry_id=entry.pk,
        started_at=start,
        ended_at=start + timedelta(minutes=5),
        perceived_group=group,
    )


def test_it_reports_recall_by_perceived_group_with_intervals(users, world):  # noqa: F811
    d, _, volunteer = world
    start = d.started_at + timedelta(minutes=5)
    _raise(d, volunteer, at=start + timedelta(minutes=1))  # seen on the first walk only
    _walk(d, users.command, volunteer, start, "Black")
    _walk(d, users.command, volunteer, start + timedelta(minutes=20), "Black")
    _walk(d, users.command, volunteer, start + timedelta(minutes=40), "White")
    _walk(d, users.command, volunteer, start + timedelta(minutes=60), "")
    by_group = {g["group"]: g for g in selectors.blue_list(d)["by_group"]}
    assert list(by_group) == ["Black", "White", "Not recorded"]
    black = by_group["Black"]
    assert (black["walks"], black["detected"], black["tpr"]) == (2, 1, 0.5)
    low, high = wilson_interval(1, 2)
    assert (black["ci_low"], black["ci_high"]) == (round(low, 4), round(high, 4))
    assert by_group["White"]["detected"] == 0


def test_it_refuses_a_group_outside_the_configured_list(users, world):  # noqa: F811
    d, _, volunteer = world
    with pytest.raises(ValidationError, match="Perceived group must be one of"):
        _walk(d, users.command, volunteer, d.started_at + timedelta(minutes=5), "Martian")


def test_it_shows_recall_by_group_on_the_deployment_page(users, world, login):  # noqa: F811
    d, _, volunteer = world
    _walk(d, users.command, volunteer, d.started_at + timedelta(minutes=5), "Asian")
    html = login(users.command).get(f"/deployments/{d.pk}/").content.decode()
    assert "Recall by the walker&#x27;s perceived group" in html or "Recall by the walker's" in html
    assert 'data-group="Asian"' in html and "0–79 %" in html  # Wilson for 0 of 1


def test_it_reports_recall_by_group_on_the_equality_page(users, world, login):  # noqa: F811
    d, _, volunteer = world
    start = d.started_at + timedelta(minutes=5)
    _raise(d, volunteer, at=start + timedelta(minutes=1))
    _walk(d, users.command, volunteer, start, "Black")
    html = login(users.oversight).get("/oversight/reports/equality/").content.decode()
    assert "Recall by perceived group (blue-list walk-throughs)" in html
    assert '<tr data-group="Black"><td>Black</td><td class="num">1</td>' in html
