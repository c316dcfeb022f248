from django.contrib import admin
from django.contrib.auth.decorators import login_required
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
    path("api/schema/", login_required(SpectacularAPIView.as_view()), name="schema"),
]
