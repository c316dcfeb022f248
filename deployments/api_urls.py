from django.urls import path

from deployments import api

app_name = "deployments_api"
urlpatterns = [
    # Resource-style: GET/POST on a collection, GET/PATCH on an object.
    path("", api.DeploymentCollectionApi.as_view(), name="list"),
    path("sites/", api.SiteCollectionApi.as_view(), name="sites"),
    path("cameras/", api.CameraCollectionApi.as_view(), name="cameras"),
    path("cameras/<int:pk>/", api.CameraResourceApi.as_view(), name="camera"),
    # The action-style routes, deprecated aliases for one release (docs/API.md).
    path("create/", api.DeploymentCreateApi.as_view(), name="create"),
    path("calendar/", api.CalendarApi.as_view(), name="calendar"),
    path("<int:pk>/", api.DeploymentResourceApi.as_view(), name="detail"),
    path("<int:pk>/update/", api.DeploymentUpdateApi.as_view(), name="update"),
    path("<int:pk>/submit/", api.DeploymentSubmitApi.as_view(), name="submit"),
    path("<int:pk>/authorisation/", api.AuthorisationViewApi.as_view(), name="authorisation"),
    path("<int:pk>/authorise/", api.DeploymentAuthoriseApi.as_view(), name="authorise"),
    path("<int:pk>/refuse/", api.DeploymentRefuseApi.as_view(), name="refuse"),
    path("<int:pk>/cancel/", api.DeploymentCancelApi.as_view(), name="cancel"),
    path("<int:pk>/stop/", api.DeploymentStopApi.as_view(), name="stop"),
    path("<int:pk>/record/", api.RecordApi.as_view(), name="record"),
    path(
        "<int:pk>/independent-authorisation/",
        api.IndependentAuthorisationApi.as_view(),
        name="independent_authorisation",
    ),
    path("<int:pk>/review/", api.RecordReviewApi.as_view(), name="review"),
    path("<int:pk>/signoff/", api.RecordSignoffApi.as_view(), name="signoff"),
    path("sites/create/", api.SiteCreateApi.as_view(), name="site_create"),
    path("cameras/create/", api.CameraCreateApi.as_view(), name="camera_create"),
    path("cameras/test/", api.CameraTestApi.as_view(), name="camera_test"),
    path("cameras/<int:pk>/update/", api.CameraUpdateApi.as_view(), name="camera_update"),
]
