from django.urls import path

from recognition import views

app_name = "recognition"
urlpatterns = [
    path("", views.consoles, name="consoles"),
    path("deployments/<int:deployment_id>/console/", views.console_page, name="console"),
    path("deployments/<int:deployment_id>/cameras/", views.camera_status, name="camera_status"),
    path("cameras/health/", views.cameras_health, name="cameras_health"),
    path("alerts/<int:alert_id>/crop.jpg", views.alert_crop, name="alert_crop"),
    path("alerts/<int:alert_id>/reference.jpg", views.alert_reference, name="alert_reference"),
    path("alerts/<int:alert_id>/adjudicate/", views.adjudicate, name="adjudicate"),
    path("alerts/<int:alert_id>/verify/", views.verify, name="verify"),
]
