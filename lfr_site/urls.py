from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("", include("core.urls")),
    path("admin/", admin.site.urls),
    path("watchlists/", include("watchlists.urls")),
    path("deployments/", include("deployments.urls")),
    path("recognition/", include("recognition.urls")),
    path("oversight/", include("oversight.urls")),
    path("transparency/", include("deployments.transparency_urls")),
    path("api/v1/", include("lfr_site.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
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
