"""Second-factor pages: enter a code, enrol an authenticator, and an admin's reset.

Thin callers of core/mfa.py; the middleware sends every half-signed-in request here.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods

from core import access, mfa, request_context, services
from core.forms import ReasonForm


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(name, request) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next(request)})}"


def remember_device(request, response):
    """Name this browser as one the user fully signed in on (core/services.py, known
    devices): a stranger's failures then cannot lock them out of it."""
    value = services.known_device_remember(
        value=request.COOKIES.get(services.KNOWN_DEVICE_COOKIE),
        username=request.user.get_username(),
    )
    response.set_cookie(
        services.KNOWN_DEVICE_COOKIE,
        value,
        max_age=services.KNOWN_DEVICE_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _known_device(request) -> str | None:
    return services.login_known_device(
        value=request.COOKIES.get(services.KNOWN_DEVICE_COOKIE),
        username=request.user.get_username(),
    )


def _locked(request) -> bool:
    """Refuse codes while the account or the address is locked (counted, like passwords),
    unless this is a browser the account signed in on before."""
    username, address = request.user.get_username(), request_context.current()[1]
    if _known_device(request):
        return False
    if services.login_address_is_locked(address=address):
        services.login_refused_locked(username=username, address=address, by_address=True)
        return True
    if services.login_is_locked(username=username):
        services.login_refused_locked(username=username)
        return True
    return False


LOCKED = "Too many failed attempts: this account is locked for {minutes} minutes."


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    if mfa.is_verified(request):
        return redirect(_next(request))
    if mfa.confirmed_totp(request.user) is None:
        return redirect(_with_next("mfa_enrol", request))
    form, error = CodeForm(request.POST or None), ""
    if request.method == "POST":
        if _locked(request):
            error = LOCKED.format(minutes=settings.LFR_LOGIN_LOCK_MINUTES)
        elif form.is_valid() and mfa.mfa_verify(
            request=request, code=form.cleaned_data["code"], device=_known_device(request)
        ):
            return remember_device(request, redirect(_next(request)))
        else:
            error = "That code is not right (or was used already). Try the next one."
    return render(
        request,
        "registration/mfa_verify.html",
        {"form": form, "error": error, "next": _next(request)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    if mfa.confirmed_totp(request.user) is not None:
        return redirect(_with_next("mfa_verify", request))
    device = mfa.mfa_enrol_start(user=request.user)
    form, error = CodeForm(request.POST or None), ""
    if request.method == "POST":
        if _locked(request):
            error = LOCKED.format(minutes=settings.LFR_LOGIN_LOCK_MINUTES)
        elif form.is_valid():
            codes = mfa.mfa_enrol_confirm(request=request, code=form.cleaned_data["code"])
            if codes is not None:
                page = render(
                    request,
                    "registration/mfa_recovery_codes.html",
                    {"codes": codes, "next": _next(request)},
                )
                return remember_device(request, page)
            error = "That code is not right. Check the time on your device and try again."
        else:
            error = "Enter the six-digit code your authenticator shows."
    context = {
        "form": form,
        "error": error,
        "next": _next(request),
        "secret": mfa.secret_base32(device),
        "uri": device.config_url,
        "qr": mfa.qr_svg(device),
    }
    return render(request, "registration/mfa_enrol.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def reset(request, user_id):
    access.require(request.user, "mfa_device", "reset")
    target = get_object_or_404(get_user_model(), pk=user_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mfa.mfa_reset(user=target, by=request.user, reason=form.cleaned_data["reason"])
        except mfa.ResetRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"{target.get_username()} enrols a new authenticator at next sign-in."
            )
            return redirect("user", user_id=target.pk)
    return render(request, "registration/mfa_reset.html", {"form": form, "target": target})
