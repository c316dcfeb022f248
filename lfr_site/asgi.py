"""ASGI entry point: HTTP through Django, websockets through Channels.

Run in production with `daphne lfr_site.asgi:application`. Request bodies are bounded
(LFR_MAX_REQUEST_BYTES) twice: in the ASGI app, for any server, and inside daphne, before
Twisted buffers or parses them (see `_bound_daphne_bodies`).
"""

import inspect
import os
import sys

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lfr_site.settings")

try:
    from django.core.asgi import get_asgi_application

    django_asgi_app = get_asgi_application()
except ImproperlyConfigured as exc:
    print(f"lfr: configuration error: {exc}", file=sys.stderr)
    sys.exit(2)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import WebsocketDenier  # noqa: E402
from django.conf import settings  # noqa: E402
from django.http.request import split_domain_port, validate_host  # noqa: E402

from recognition.routing import websocket_urlpatterns  # noqa: E402


class SameOriginValidator:
    """Accept a websocket only from a page of this site: the Origin's scheme, host and
    port must be those of the handshake (its Host header, http for ws and https for wss)
    with the host in ALLOWED_HOSTS, or an origin listed in CSRF_TRUSTED_ORIGINS. Channels'
    AllowedHostsOriginValidator compares the host name alone."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not self.valid(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)

    @staticmethod
    def valid(scope) -> bool:
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin1")
        if origin in settings.CSRF_TRUSTED_ORIGINS:
            return True
        scheme = "https" if scope.get("scheme") == "wss" else "http"
        default_port = "443" if scheme == "https" else "80"
        # No Host header (test clients): the allowed host on its scheme's default port.
        host = headers.get(b"host", b"").decode("latin1")
        if not origin.startswith(f"{scheme}://"):
            return False
        netloc = origin[len(scheme) + 3 :]
        domain, port = split_domain_port(netloc)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return False
        if host:
            host_domain, host_port = split_domain_port(host)
            return (domain, port or default_port) == (host_domain, host_port or default_port)
        return (port or default_port) == default_port


REFUSED_BODY = (
    b"413 Content Too Large: the request body is larger than this server accepts "
    b"(LFR_MAX_REQUEST_BYTES).\n"
)
# The refusal is answered before Django, so before its policy middleware: its own headers.
REFUSED_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-security-policy", b"default-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"content-length", str(len(REFUSED_BODY)).encode()),
    (b"connection", b"close"),
]


def _declared_length(headers) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """Refuse an HTTP request whose body passes LFR_MAX_REQUEST_BYTES with 413: at once if
    its Content-Length says so (nothing is read), else as soon as the chunks pass it (the
    app sees a disconnect, and Django stops reading). Server-independent; daphne gets the
    same rule earlier, in `_bound_daphne_bodies`."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        limit = settings.LFR_MAX_REQUEST_BYTES
        declared = _declared_length(scope.get("headers", []))
        if declared is not None and declared > limit:
            return await _refuse(send)
        received, refused, started = 0, False, False

        async def bounded_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.application(scope, bounded_receive, tracked_send)
        if refused and not started:
            await _refuse(send)


async def _refuse(send):
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": REFUSED_HEADERS,
        }
    )
    await send({"type": "http.response.body", "body": REFUSED_BODY})


def _bound_daphne_bodies():
    """Make daphne refuse an oversized body before Twisted reads it.

    Daphne has no body limit: Twisted buffers the whole body (in a temporary file past
    100 kB), parses a multipart one into memory for `request.args` (which daphne never
    reads), and daphne then queues all of it for the app at once. That is how one
    anonymous 100 MB POST grew the server by 1.2 GB. The request class below answers 413
    when the headers declare more than the limit, counts a chunked body as it arrives,
    closes the connection either way, and turns Twisted's form parsing off.

    Daphne's CLI and `manage.py lfr_demo` both import this module before they build the
    server, and `daphne.server.Server.run` looks `HTTPFactory` up at that moment, so
    replacing it here bounds every daphne that serves this application.
    """
    try:
        from daphne import http_protocol, server
    except ImportError:  # another ASGI server: BodyLimit alone applies
        return

    # Twisted >= 24.10 can skip parsing forms into request.args (daphne never reads them).
    init = inspect.signature(http_protocol.http.Request.__init__).parameters
    no_form_parsing = (
        {"parsePOSTFormSubmission": False} if "parsePOSTFormSubmission" in init else {}
    )

    class BoundedWebRequest(http_protocol.WebRequest):
        def __init__(self, *args, **kwargs):
            self._body_received, self._body_refused = 0, False
            super().__init__(*args, **no_form_parsing, **kwargs)

        def gotLength(self, length):
            super().gotLength(length)
            if length is not None and length > settings.LFR_MAX_REQUEST_BYTES:
                self._refuse_body()

        def handleContentChunk(self, data):
            if self._body_refused:
                return
            self._body_received += len(data)
            if self._body_received > settings.LFR_MAX_REQUEST_BYTES:
                self._refuse_body()
                return
            super().handleContentChunk(data)

        def requestReceived(self, command, path, version):
            if not self._body_refused:
                super().requestReceived(command, path, version)

        def _refuse_body(self):
            self._body_refused = True
            self.content.close()
            headers = b"".join(name + b": " + value + b"\r\n" for name, value in REFUSED_HEADERS)
            self.channel.transport.write(
                b"HTTP/1.1 413 Content Too Large\r\n" + headers + b"\r\n" + REFUSED_BODY
            )
            self.channel.loseConnection()

    class BoundedHTTPFactory(http_protocol.HTTPFactory):
        def buildProtocol(self, addr):
            protocol = super().buildProtocol(addr)
            protocol.requestFactory = BoundedWebRequest
            return protocol

    server.HTTPFactory = BoundedHTTPFactory


_bound_daphne_bodies()

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(django_asgi_app),
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
