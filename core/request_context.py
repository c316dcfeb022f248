"""Who is acting, from where, under which request id: read by the audit service.

Set by RequestContextMiddleware for HTTP and by consumers for websockets; Celery tasks
leave it empty, so their audit rows show the system as actor.
"""

import contextvars
import uuid
from contextlib import contextmanager

_request_id = contextvars.ContextVar("lfr_request_id", default="")
_client_addr = contextvars.ContextVar("lfr_client_addr", default="")
# Denials recorded inside a transaction that may yet roll back (see core.access.require).
_denials = contextvars.ContextVar("lfr_denials", default=None)


def current() -> tuple[str, str]:
    return _request_id.get(), _client_addr.get()


@contextmanager
def bind(*, request_id: str | None = None, client_addr: str = ""):
    t1 = _request_id.set(request_id or uuid.uuid4().hex)
    t2 = _client_addr.set(client_addr or "")
    t3 = _denials.set([])
    try:
        yield
    finally:
        _request_id.reset(t1)
        _client_addr.reset(t2)
        _denials.reset(t3)


def remember_denial(record: dict) -> None:
    pending = _denials.get()
    if pending is not None:
        pending.append(record)


def pop_denials() -> list[dict]:
    pending = _denials.get() or []
    _denials.set([])
    return pending
