"""One time format on every page, in the force's zone, the zone named; ISO 8601 with the
offset where a program reads it (exports, the API)."""

import re
from datetime import UTC, datetime

from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from tests.helpers import ROOT

SUMMER = datetime(2026, 7, 10, 10, 5, 9, tzinfo=UTC)  # 11:05:09 in London (BST)


def _render(text, **context):
    return Template(text).render(Context(context))


def test_it_shows_a_time_in_the_forces_zone_in_one_format():
    assert _render("{{ t|when }}", t=SUMMER) == "2026-07-10 11:05"
    assert _render('{{ t|when:"seconds" }}', t=SUMMER) == "2026-07-10 11:05:09"
    assert _render("{{ t|when }}", t=SUMMER.isoformat()) == "2026-07-10 11:05"
    assert _render('{{ t|when|default:"never" }}', t=None) == "never"


def test_the_audit_table_and_its_footer_name_the_same_zone(login, users, fresh_cache, settings):
    settings.TIME_ZONE = "Europe/Paris"  # an hour from UTC all year, so the two differ
    html = login(users.oversight).get(reverse("oversight:audit")).content.decode()
    at = AuditEvent.objects.get(action="audit.verified").at  # the explorer's own check
    assert "(UTC)" not in html and " UTC" not in html
    assert "Europe/Paris" in html
    assert timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S") in html  # as the footer says


# The formats a page may still spell out: dates alone. Every time goes through `when`
# (or the `window` tag for a range), so there is one format to read.
DATE_ONLY = {"Y-m-d", "D j M"}


def test_every_template_shows_times_through_one_filter():
    offenders = []
    for template in ROOT.glob("*/templates/**/*.html"):
        for fmt in re.findall(r'\|date:"([^"]*)"', template.read_text()):
            if fmt not in DATE_ONLY:
                offenders.append(f"{template.relative_to(ROOT)}: {fmt}")
    assert offenders == []


def test_the_api_carries_iso_8601_with_the_offset(login, users, deployment_in_state, settings):
    settings.TIME_ZONE = "Europe/Paris"
    deployment_in_state("draft")
    row = login(users.command).get("/api/v1/deployments/").json()["results"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+01:00", row["starts_at"])


def test_a_window_is_shown_in_the_same_format():
    from datetime import timedelta

    from core.templatetags.lfr_time import window

    assert window(SUMMER, SUMMER + timedelta(hours=1)) == "2026-07-10 11:05 – 12:05"
    assert window(SUMMER, SUMMER + timedelta(hours=14)) == "2026-07-10 11:05 – 2026-07-11 01:05"
