"""API tokens for integrations: created by an administrator, shown once, revocable, audited.

A token acts as a service user of its own ("api-<name>") holding one role, so every rule
and every audit row treats it like any user of that role, under its own name. Only roles
whose work a system may do are offered: planning (command staff), proposing watchlist
entries (contributor) and reading for oversight. Authorising, approving, adjudicating and
administering are decisions a named person must take, so no token holds those roles;
nor does a command-staff token place or lift a legal hold or stop a live deployment
(`core.access`: those need a signed-in person).

Send it as `Authorization: Bearer <token>`. It needs no session and no CSRF token; a
second factor is not asked of it (it is a machine's credential), which is why it is
shown once, stored only as a hash, and revoked with one click.
"""

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from core import access
from core.models import ApiToken
from core.services import audit_record

TOKEN_ROLES = (access.COMMAND_STAFF, access.WATCHLIST_CONTRIBUTOR, access.OVERSIGHT)
PREFIX = "lfr_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, by, name: str, role: str) -> tuple[ApiToken, str]:
    """A new token and its key; the key is returned here and never again."""
    access.require(by, "api_token", "create")
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationError({"name": "Name the integration (up to 100 characters)."})
    if role not in TOKEN_ROLES:
        labels = ", ".join(access.ROLE_LABELS[r] for r in TOKEN_ROLES)
        raise ValidationError({"role": f"A token may hold one of: {labels}."})
    if ApiToken.objects.filter(name=name).exists():
        raise ValidationError({"name": "A token of that name exists: choose another."})
    prefix = secrets.token_hex(4)
    key = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    user = get_user_model().objects.create_user(username=f"api-{prefix}", password=None)
    user.first_name = name[:150]
    user.save(update_fields=["first_name"])
    user.groups.add(Group.objects.get(name=role))
    token = ApiToken.objects.create(
        name=name, role=role, user=user, prefix=prefix, key_hash=_hash(key), created_by=by
    )
    audit_record(
        actor=by, action="api_token.create", obj=token, details={"name": name, "role": role}
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, by, token_id: int) -> ApiToken:
    access.require(by, "api_token", "revoke")
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token_id)
    if token.revoked_at is None:
        now = timezone.now()
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=now)
        # The service user goes too, so nothing it holds (a session) outlives the token.
        type(token.user).objects.filter(pk=token.user_id).update(is_active=False)
        token.revoked_at = now
        audit_record(actor=by, action="api_token.revoke", obj=token, details={"name": token.name})
    return token


class BearerTokenAuthentication(BaseAuthentication):
    """DRF: `Authorization: Bearer lfr_<prefix>_<secret>`."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the token as: Authorization: Bearer <token>.")
        key = parts[1].decode("latin-1")
        try:
            prefix = key.removeprefix(PREFIX).split("_", 1)[0]
        except IndexError:
            prefix = ""
        token = (
            ApiToken.objects.select_related("user").filter(prefix=prefix).first()
            if key.startswith(PREFIX)
            else None
        )
        if token is None or not secrets.compare_digest(token.key_hash, _hash(key)):
            raise AuthenticationFailed("This API token is not valid.")
        if token.revoked_at is not None or not token.user.is_active:
            raise AuthenticationFailed("This API token was revoked.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the token (Swagger UI's Authorize button uses it)."""

    target_class = "core.tokens.BearerTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration's API token (created by an administrator at "
            "/accounts/tokens/, shown once): Authorization: Bearer lfr_...",
        }
