from core import request_context


class RequestContextMiddleware:
    """Give every request an id (echoed in X-Request-ID) for the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")[:64] or None
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
