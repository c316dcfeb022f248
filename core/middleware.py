import re

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.cache import patch_cache_control

from core import request_context

# A client's X-Request-ID is kept only if it is a short plain token: it is stored in the
# audit trail and echoed in a header, so markup, spaces and control characters are out.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestContextMiddleware:
    """Give every request an id (echoed in X-Request-ID) for the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _SAFE_REQUEST_ID.fullmatch(supplied) else None
        with request_context.bind(
            request_id=request_id, client_addr=request.META.get("REMOTE_ADDR", "")
        ):
            request.request_id = request_context.current()[0]
            response = self.get_response(request)
            _rewrite_rolled_back_denials()
        response["X-Request-ID"] = request.request_id
        return response


def _rewrite_rolled_back_denials():
    """A denial audited inside a transaction that then rolled back is written again."""
    from core.models import AuditEvent
    from core.services import audit_record

    for record in request_context.pop_denials():
        digest = record.pop("hash")
        if not AuditEvent.objects.filter(hash=digest).exists():
            audit_record(**record)


class SessionIdleMiddleware:
    """Keep the inactivity timeout without writing the session on every request.

    The session row's expiry is pushed to now + SESSION_COOKIE_AGE only when its last
    refresh is older than a minute (a tenth of the timeout if that is shorter), so an
    ordinary request writes nothing, and a session ends at most that long *before* the
    idle timeout since its last request, never after. Must sit inside SessionMiddleware.
    """

    KEY = "_lfr_refreshed"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response  # anonymous, or just logged out: nothing to keep alive
        from django.conf import settings
        from django.utils import timezone

        now = int(timezone.now().timestamp())
        every = min(60, settings.SESSION_COOKIE_AGE // 10)
        if session.modified or now - session.get(self.KEY, 0) >= every:
            session[self.KEY] = now  # marks it modified: SessionMiddleware saves it
        return response


class NoStoreMiddleware:
    """Authenticated pages and API answers carry intelligence: no browser or proxy keeps a
    copy (`Cache-Control: no-store`). Public pages (transparency, login) stay cacheable.
    Must sit after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


class MFARequiredMiddleware:
    """A session past the password but not yet past its second factor reaches only the
    sign-in pages (core.mfa.is_exempt): pages redirect to the code (or enrolment) page,
    API calls get 403. Must sit after django-otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from core import mfa

        if mfa.is_verified(request) or mfa.is_exempt(request.path_info):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": mfa.MFAVerified.message}, status=403)
        from django.urls import reverse

        return redirect_to_login(request.get_full_path(), reverse("mfa_verify"))


class RefuseNulMiddleware:
    """A NUL character in the address, the query or a form field is never meant: refuse it
    with a 400 before any view sees it. PostgreSQL cannot store NUL in text, so left
    alone it surfaces as a server error wherever the value reaches a query (a search, a
    purpose, a reason). JSON bodies are refused by DRF's CharField; uploaded files' bytes
    are not looked at. A form body is read only for a signed-in user: an anonymous POST
    is left to CSRF and authentication to refuse before its body is parsed (our forms
    that take anonymous input, the login, are Django forms, which refuse NUL already).
    Must sit after AuthenticationMiddleware."""

    MESSAGE = "NUL characters (%00) are not accepted in the address, the query or a form."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            refused = self.MESSAGE if _has_nul(request) else ""
        except MultiPartParserError as exc:
            refused = f"The form could not be read: {exc}"
        if refused:
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": refused, "rule": "invalid"}, status=400)
            return HttpResponseBadRequest(refused, content_type="text/plain")
        return self.get_response(request)


def _has_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    forms = [request.GET]
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if signed_in and request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        forms.append(request.POST)
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for form in forms
        for key, values in form.lists()
    )


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy on every response: scripts only from our static
    files (no inline script, no eval, no handler attributes), nothing embedded, no
    framing, forms post only here, and the console's websocket to this host only.

    Styles: style sheets only from here (`style-src-elem`), but `style` attributes stay
    allowed (`style-src-attr 'unsafe-inline'`): the templates lay out with them, and a
    style attribute cannot run script. A browser too old for the -elem/-attr split
    falls back to `style-src 'self'`, stricter still.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        socket = f"{'wss' if request.is_secure() else 'ws'}://{request.get_host()}"
        response.setdefault(
            "Content-Security-Policy",
            "; ".join(
                (
                    "default-src 'self'",
                    "script-src 'self'",
                    "style-src 'self'",
                    "style-src-elem 'self'",
                    "style-src-attr 'unsafe-inline'",
                    "img-src 'self' data: blob:",
                    f"connect-src 'self' {socket}",
                    "object-src 'none'",
                    "base-uri 'none'",
                    "frame-ancestors 'none'",
                    "form-action 'self'",
                )
            ),
        )
        return response
