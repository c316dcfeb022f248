"""Issue 14.10: login throttling per client address, and bounded audit rows for refusals."""

from django.urls import reverse

from core.models import AuditEvent, LoginThrottle
from tests.helpers import PASSWORD


def _login(client, username, password="wrong", addr="203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=addr
    )


def test_it_blocks_an_address_that_fails_too_often_across_usernames(client, users, settings):
    settings.LFR_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for name in ("ann", "bob", "cat"):
        _login(client, name)
    response = _login(client, "cmd", PASSWORD)
    assert response.status_code == 200
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_a_blocked_address_locks_no_more_accounts(client, users, settings):
    settings.LFR_LOGIN_MAX_FAILURES, settings.LFR_LOGIN_MAX_FAILURES_PER_ADDRESS = 3, 6
    for name in ("cmd", "cmd", "cmd", "auth", "auth", "auth", "off", "off", "off"):
        _login(client, name)
    assert not LoginThrottle.objects.filter(username="off").exists()
    # The officer, elsewhere, is not locked out by the attacker.
    assert _login(client, "off", PASSWORD, addr="198.51.100.2").status_code == 302


def test_another_address_still_logs_in(client, users, settings):
    settings.LFR_LOGIN_MAX_FAILURES_PER_ADDRESS = 2
    _login(client, "ann")
    _login(client, "bob")
    assert _login(client, "cmd", PASSWORD, addr="198.51.100.2").status_code == 302


def test_it_writes_a_bounded_count_of_audit_rows_for_refused_attempts(client, users, settings):
    settings.LFR_LOGIN_MAX_FAILURES = 5
    for _ in range(200):
        _login(client, "cmd")
    rows = AuditEvent.objects.filter(action__startswith="login.")
    assert rows.filter(action="login.failed").count() == 5
    assert rows.count() <= 5 + 3, list(rows.values_list("action", "details"))
    # ... without losing the record that the attempts happened.
    refused = rows.filter(action="login.locked").order_by("-seq").first()
    assert refused.details["refused"] == 100
    assert LoginThrottle.objects.get(username="cmd").refused == 195


def test_the_exact_count_is_recorded_when_the_account_logs_in_again(client, users, settings):
    settings.LFR_LOGIN_MAX_FAILURES = 2
    for _ in range(7):
        _login(client, "cmd")
    LoginThrottle.objects.filter(username="cmd").update(locked_until=None)
    assert _login(client, "cmd", PASSWORD).status_code == 302
    row = AuditEvent.objects.get(action="login.succeeded")
    assert row.details["refused_while_locked"] == 5
