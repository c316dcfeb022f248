"""Public pages: no login, nothing personal (the Met publishes a record per deployment)."""

from django.urls import path

from deployments import api, views

app_name = "transparency"
urlpatterns = [
    path("", views.transparency, name="index"),
    path("deployments.csv", views.transparency_csv, name="csv"),
    path("deployments.json", api.PublishedRecordsApi.as_view(), name="json"),
    path("notices/", views.transparency_notices, name="notices"),
    path("annual/<int:year>/", views.annual_report, name="annual"),
    path("annual/<int:year>.csv", views.annual_report_csv, name="annual_csv"),
    path("annual/<int:year>.json", views.annual_report_json, name="annual_json"),
]
