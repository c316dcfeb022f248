from django.urls import include, path

urlpatterns = [
    path("watchlist/", include("watchlists.api_urls")),
    path("deployments/", include("deployments.api_urls")),
    path("recognition/", include("recognition.api_urls")),
    path("oversight/", include("oversight.api_urls")),
]
