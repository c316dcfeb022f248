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
