"""The server log an operator reads: an ordinary refusal is one line, not a traceback."""

import logging

from django.conf import settings


def _lines(records):
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    return [formatter.format(record) for record in records]


def test_it_logs_a_403_as_one_line(login, users, caplog):
    # Oversight reads deployments but may not plan one: an ordinary refusal.
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = login(users.oversight).get("/deployments/new/")
    assert response.status_code == 403
    lines = _lines(r for r in caplog.records if r.name == "django.request")
    assert len(lines) == 1
    assert "Forbidden" in lines[0] and "/deployments/new/" in lines[0]
    assert "\n" not in lines[0], lines[0]
