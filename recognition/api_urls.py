from django.urls import path

from recognition import api

app_name = "recognition_api"
urlpatterns = [
    path("deployments/<int:deployment_id>/alerts/", api.AlertListApi.as_view(), name="alerts"),
    path("cameras/health/", api.CameraHealthListApi.as_view(), name="cameras_health"),
    path(
        "deployments/<int:deployment_id>/cameras/health/",
        api.DeploymentCameraHealthApi.as_view(),
        name="camera_health",
    ),
    path(
        "alerts/<int:alert_id>/adjudication/",
        api.AdjudicationCreateApi.as_view(),
        name="adjudicate",
    ),
    path(
        "alerts/<int:alert_id>/verification/",
        api.VerificationCreateApi.as_view(),
        name="verify",
    ),
    path(
        "adjudications/<int:adjudication_id>/correction/",
        api.AdjudicationCorrectApi.as_view(),
        name="correct",
    ),
]
