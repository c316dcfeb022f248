"""`manage.py create_admin`: the first administrator of a new installation, audited."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core import access
from core.models import AuditEvent
from tests.helpers import make_user

pytestmark = pytest.mark.django_db

STRONG = "plinth-quarry-lantern-48"


def create(monkeypatch, username="alice", password=STRONG):
    monkeypatch.setenv("LFR_ADMIN_PASSWORD", password)
    call_command("create_admin", "--username", username, "--email", "alice@force.example")


def test_it_creates_the_first_administrator_and_audits_it(monkeypatch):
    create(monkeypatch)
    user = get_user_model().objects.get(username="alice")
    assert user.check_password(STRONG) and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [access.ADMIN]
    event = AuditEvent.objects.get(action="user.admin_created")
    assert event.object_id == str(user.pk) and event.details["via"] == "manage.py create_admin"
    assert STRONG not in str(event.details)


@pytest.mark.parametrize(
    "password, why",
    [
        ("password1234", "too common"),
        ("alice@force.example", "too similar"),
        ("short-9", "too short"),
    ],
)
def test_it_refuses_a_weak_password(monkeypatch, password, why):
    with pytest.raises(CommandError, match=why):
        create(monkeypatch, password=password)
    assert not get_user_model().objects.filter(username="alice").exists()
    assert not AuditEvent.objects.filter(action="user.admin_created").exists()


def test_it_refuses_when_an_administrator_exists(monkeypatch):
    make_user("root", access.ADMIN)
    with pytest.raises(CommandError, match="already has an administrator"):
        create(monkeypatch)


def test_it_refuses_a_username_that_is_taken(monkeypatch):
    make_user("alice")
    with pytest.raises(CommandError, match="already exists"):
        create(monkeypatch)
