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
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from recognition.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
