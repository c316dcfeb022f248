from django.contrib.auth.decorators import login_required
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)

from lfr_site.api_index import ApiIndex, RedocView, docs_page, redoc_bundle, signed_in_or_token

urlpatterns = [
    path("", include("core.urls")),
    path("watchlists/", include("watchlists.urls")),
    path("deployments/", include("deployments.urls")),
    path("recognition/", include("recognition.urls")),
    path("oversight/", include("oversight.urls")),
    path("transparency/", include("deployments.transparency_urls")),
    path("api/v1/", ApiIndex.as_view(), name="api_index"),
    path("api/v1/", include("lfr_site.api_urls")),
    path("api/", RedirectView.as_view(pattern_name="api_index"), name="api_root"),
    path(
        "api/docs/",
        login_required(docs_page(SpectacularSwaggerSplitView.as_view(url_name="schema"))),
        name="api_docs",
    ),
    path(
        "api/redoc/",
        login_required(docs_page(RedocView.as_view(url_name="schema"))),
        name="api_redoc",
    ),
    path("api/redoc/redoc.standalone.js", login_required(redoc_bundle), name="api_redoc_script"),
    path("api/schema/", signed_in_or_token(SpectacularAPIView.as_view()), name="schema"),
    # Browsers ask for /favicon.ico on pages that name none (JSON, images).
    path(
        "favicon.ico",
        lambda request: HttpResponsePermanentRedirect(static("core/favicon.svg")),
        name="favicon",
    ),
]

handler403 = "core.errors.forbidden"
handler404 = "core.errors.not_found"
handler500 = "core.errors.server_error"
