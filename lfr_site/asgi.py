"""ASGI entry point: HTTP through Django, websockets through Channels.

Run in production with `daphne lfr_site.asgi:application` (or any ASGI server).
"""

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


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
