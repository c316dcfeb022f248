"""Forms shared by every app: the throttled login form and the one "give a reason" form."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from core import request_context, services


class ReasonForm(forms.Form):
    """A reason for a refusal, a stop, a rejection or a legal hold (kept in the audit log)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing locked accounts and addresses and counting failures;
    the one place a right password is audited, for the main login and /admin/login/ alike.
    A browser the account fully signed in on before passes its locks (core/services.py,
    known devices)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": "Too many failed attempts: this account is locked for %(minutes)s minutes.",
        "address_locked": (
            "Too many failed attempts from your address: try again in %(minutes)s minutes."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = request_context.current()[1]
        cookies = self.request.COOKIES if self.request is not None else {}
        device = services.login_known_device(
            value=cookies.get(services.KNOWN_DEVICE_COOKIE), username=username
        )
        if not device and services.login_address_is_locked(address=address):
            services.login_refused_locked(username=username, address=address, by_address=True)
            raise self.get_locked_error("address_locked")
        if not device and username and services.login_is_locked(username=username):
            services.login_refused_locked(username=username)
            raise self.get_locked_error()
        try:
            if len(username) > self.fields["username"].max_length:
                # Refused before authenticate(): no account has such a name.
                raise self.get_invalid_login_error()
            cleaned = super().clean()
        except ValidationError:
            if username:
                row = services.login_failed(username=username, address=address, device=device)
                if row.locked_until and not device:
                    raise self.get_locked_error()
            raise
        # The password is right; with a second factor to come, the throttle keeps counting.
        details = {"known_device": True} if device else {}
        services.login_succeeded(
            user=self.get_user(), details=details, reset=not settings.LFR_MFA_REQUIRED
        )
        return cleaned

    def get_locked_error(self, code="locked"):
        return ValidationError(
            self.error_messages[code],
            code=code,
            params={"minutes": settings.LFR_LOGIN_LOCK_MINUTES},
        )
