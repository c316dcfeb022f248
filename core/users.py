"""People's accounts, administered in the product: list, create, change role, deactivate.

Every write asks core.access ("user" rules: the admin role, never one's own account) and
leaves an audit row. A new user gets a one-time password, shown once to the administrator,
and no second factor: at first sign-in they enrol an authenticator (core/mfa.py), so no
administrator ever holds anyone's key. Deactivation ends the user's sessions, revokes the
API tokens they created (an integration a leaver set up must not outlive their account;
a colleague creates a new one) and, at the console's next tick, closes their sockets:
the console asks core.access on every tick, and an inactive user may do nothing.

API tokens' service users ("api-…") are not people: they are listed and revoked on the
tokens page (core/tokens.py), never here.
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import access, mfa, services, tokens
from core.models import ApiToken, LoginThrottle
from core.services import audit_record

PAGE_SIZE = 25
ROLES = list(access.ROLE_LABELS)

# Sent once a change to a user's access is committed (`user_id`): apps holding open
# connections for users (the console's sockets) check them now, not at their next tick.
access_changed = Signal()


def _tell_access_changed(user) -> None:
    transaction.on_commit(lambda: access_changed.send(sender=get_user_model(), user_id=user.pk))


# --- selectors --------------------------------------------------------------------------------


def people():
    """Every account of a person (token service users excluded)."""
    return get_user_model().objects.filter(api_token__isnull=True)


def user_list(*, by, q: str = "", page=1):
    """One page of people matching `q` (username, name or email), by username."""
    access.require(by, "user", "list")
    rows = people().prefetch_related("groups").order_by("username")
    q = " ".join((q or "").split())
    if q:
        rows = rows.filter(
            Q(username__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
        )
    result = Paginator(rows, PAGE_SIZE).get_page(page)
    enrolled = set(
        TOTPDevice.objects.filter(user__in=result.object_list, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    for user in result.object_list:
        user.role_labels = _labels(user)
        user.enrolled = user.pk in enrolled
    return result


def user_get(*, by, user_id: int):
    """One person's account with what an administrator needs to see about it."""
    access.require(by, "user", "view")
    user = people().filter(pk=user_id).first()
    if user is None:
        raise access.NotVisible("No such user.")
    user.role_labels = _labels(user)
    user.role_names = access.roles(user)
    user.enrolled = mfa.confirmed_totp(user) is not None
    user.tokens = ApiToken.objects.filter(created_by=user)
    throttle = LoginThrottle.objects.filter(username=user.get_username().lower()).first()
    locked = throttle is not None and services.login_is_locked(username=user.get_username())
    user.locked_until = throttle.locked_until if locked else None
    return user


def _labels(user) -> list[str]:
    return [access.ROLE_LABELS[g.name] for g in user.groups.all() if g.name in access.ROLE_LABELS]


# --- services ---------------------------------------------------------------------------------


def _clean_role(role: str) -> str:
    if role not in access.ROLE_LABELS:
        raise ValidationError({"role": "Choose one of the roles."})
    return role


@transaction.atomic
def user_create(
    *, by, username: str, role: str, first_name: str = "", last_name: str = "", email: str = ""
):
    """A new person holding `role`; returns (user, one-time password). They enrol a
    second factor at first sign-in."""
    access.require(by, "user", "create")
    User = get_user_model()
    username = (username or "").strip()
    user = User(
        username=username,
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        email=(email or "").strip(),
    )
    errors = {}
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if username and User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That username is taken."]
    if role not in access.ROLE_LABELS:
        errors["role"] = ["Choose one of the roles."]
    if errors:
        raise ValidationError(errors)
    password = "-".join(secrets.token_hex(3) for _ in range(4))
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    audit_record(
        actor=by,
        action="user.create",
        obj=user,
        details={"username": username, "role": role, "second_factor": "enrols at first sign-in"},
    )
    return user, password


@transaction.atomic
def user_role_change(*, by, user, role: str) -> bool:
    """Give `user` exactly `role` (their other role groups are removed). A console they
    may no longer watch closes at its next tick. False when nothing changed."""
    access.require(by, "user", "change_role", user)
    role = _clean_role(role)
    before = access.roles(user)
    if before == [role]:
        return False
    user.groups.remove(*Group.objects.filter(name__in=access.ROLE_LABELS).exclude(name=role))
    user.groups.add(Group.objects.get(name=role))
    audit_record(
        actor=by, action="user.role_change", obj=user, details={"from": before, "to": [role]}
    )
    _tell_access_changed(user)
    return True


@transaction.atomic
def user_deactivate(*, by, user, reason: str) -> dict:
    """Disable `user`: no sign-in, sessions ended, the tokens they created revoked."""
    access.require(by, "user", "deactivate", user)
    User = get_user_model()
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    ended = mfa.user_sessions_end(user=user)
    revoked = 0
    for token in ApiToken.objects.filter(created_by=user, revoked_at__isnull=True):
        tokens.api_token_revoke(by=by, token_id=token.pk)
        revoked += 1
    done = {"sessions_ended": ended, "tokens_revoked": revoked}
    audit_record(actor=by, action="user.deactivate", obj=user, purpose=reason, details=done)
    _tell_access_changed(user)
    return done


@transaction.atomic
def user_reactivate(*, by, user, reason: str) -> None:
    """Let `user` sign in again (their revoked tokens stay revoked)."""
    access.require(by, "user", "reactivate", user)
    get_user_model().objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    audit_record(actor=by, action="user.reactivate", obj=user, purpose=reason)


@transaction.atomic
def user_unlock(*, by, user, reason: str) -> bool:
    """Lift the lock failed sign-ins put on `user`'s account (the person was checked by
    other means); False when it was not locked. The per-address lock is left alone."""
    access.require(by, "user", "unlock", user)
    removed, _ = LoginThrottle.objects.filter(username=user.get_username().lower()).delete()
    if removed:
        audit_record(actor=by, action="user.unlock", obj=user, purpose=reason)
    return bool(removed)


class AdminRefused(Exception):
    """The first administrator cannot be created: the message says why."""


@transaction.atomic
def user_create_first_admin(*, username: str, email: str, password: str, via: str):
    """The installation's first administrator, for `manage.py create_admin`.

    Refused once any administrator exists (further users are added by an administrator,
    signed in, so the act has an actor) and for a password Django's validators refuse.
    Recorded on the audit chain without an actor: nobody is signed in yet.
    """
    from django.contrib.auth.password_validation import validate_password

    User = get_user_model()
    if User.objects.filter(groups__name=access.ADMIN).exists():
        raise AdminRefused("this installation already has an administrator: sign in as them")
    if not username.strip():
        raise AdminRefused("a username is required")
    if User.objects.filter(username__iexact=username).exists():
        raise AdminRefused(f"a user {username!r} already exists")
    user = User(username=username, email=email)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise AdminRefused(" ".join(exc.messages)) from exc
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=access.ADMIN))
    audit_record(action="user.admin_created", obj=user, details={"via": via, "email": email})
    return user
