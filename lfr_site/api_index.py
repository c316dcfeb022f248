"""The API's front door: what there is, where it is described, how to authenticate."""

import functools
import json
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

RESOURCES = [
    ("deployments", "/api/v1/deployments/", "plans, authorisation, records, calendar, cameras"),
    ("watchlist", "/api/v1/watchlist/entries/", "watchlist entries and their decisions"),
    ("recognition", "/api/v1/recognition/", "alerts and adjudication on the consoles"),
    ("oversight", "/api/v1/oversight/", "reports, audit, retention, legal holds"),
]


class ApiIndex(APIView):
    """The API's resources, its description (OpenAPI, Swagger UI, Redoc) and how to sign in."""

    answers = "The API's sections, its schema and documentation links."

    @extend_schema(
        operation_id="api_index",
        responses=inline_serializer(
            "ApiIndex",
            {
                "resources": serializers.DictField(),
                "schema": serializers.CharField(),
                "docs": serializers.CharField(),
                "redoc": serializers.CharField(),
                "authentication": serializers.ListField(child=serializers.CharField()),
            },
        ),
    )
    def get(self, request):
        return Response(
            {
                "resources": {
                    name: {"url": request.build_absolute_uri(url), "holds": holds}
                    for name, url, holds in RESOURCES
                },
                "schema": request.build_absolute_uri(reverse("schema")),
                "docs": request.build_absolute_uri(reverse("api_docs")),
                "redoc": request.build_absolute_uri(reverse("api_redoc")),
                "authentication": [
                    "Authorization: Bearer <token> (an administrator creates one at "
                    "/accounts/tokens/; it is shown once)",
                    "or the signed-in browser session (with its CSRF token for writes)",
                ],
            }
        )


# Swagger UI and Redoc draw with injected <style> elements and Redoc searches in a blob:
# worker: their two pages (documentation only, no data of ours beyond the schema) get a
# policy that allows exactly that; every other page keeps the strict one.
DOCS_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)


def docs_page(view):
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response

    return wrapped


def signed_in_or_token(view):
    """A browser without a session goes to the login page; a client that sends a token is
    answered by the API view itself (its authentication reads the token: 200 or 401)."""
    browser = login_required(view)

    def wrapped(request, *args, **kwargs):
        if "HTTP_AUTHORIZATION" in request.META:
            return view(request, *args, **kwargs)
        return browser(request, *args, **kwargs)

    return wrapped


# Redoc's sidebar shows a logo it loads from Redocly's CDN, whatever the options say; the
# policy blocks it and the browser logs an error. We serve the bundle with an empty image.
REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
LOCAL_FONTS = {
    "typography": {
        "fontFamily": "system-ui, sans-serif",
        "headings": {"fontFamily": "system-ui, sans-serif"},
        "code": {"fontFamily": "ui-monospace, monospace"},
    }
}


@functools.cache
def _redoc_bundle() -> bytes:
    text = Path(finders.find(REDOC_BUNDLE)).read_text(encoding="utf-8")
    return text.replace(REDOC_LOGO, EMPTY_SVG).encode()


def redoc_bundle(request):
    response = HttpResponse(_redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "private, max-age=86400"
    return response


class RedocView(SpectacularRedocView):
    """Redoc with the fonts of this machine and the bundle above: nothing from outside."""

    template_name = "api/redoc.html"

    @staticmethod
    def _redoc_standalone():
        return reverse("api_redoc_script")

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data["theme"] = json.dumps(LOCAL_FONTS)
        return response
