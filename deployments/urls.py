from django.urls import path

from deployments import views, views_authority

app_name = "deployments"
urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("all/", views.deployment_list, name="list"),
    path("new/", views.deployment_create, name="create"),
    path("<int:pk>/", views.deployment_detail, name="detail"),
    path("<int:pk>/edit/", views.deployment_edit, name="edit"),
    path("<int:pk>/submit/", views.deployment_submit, name="submit"),
    path("<int:pk>/authorise/", views.deployment_authorise, name="authorise"),
    path("<int:pk>/cancel/", views.deployment_cancel, name="cancel"),
    path("<int:pk>/stop/", views.deployment_stop, name="stop"),
    path("<int:pk>/record/", views.deployment_record, name="record"),
    path("<int:pk>/walkthroughs/", views.deployment_walkthrough, name="walkthrough"),
    path("<int:pk>/signoff/", views.deployment_signoff, name="signoff"),
    path("<int:pk>/notice/", views.use_notice, name="notice"),
    path("<int:pk>/notice.json", views.use_notice_json, name="notice_json"),
    path("<int:pk>/notice/sent/", views.use_notice_sent, name="notice_sent"),
    path("<int:pk>/public-notice/", views.public_notice, name="public_notice"),
    path("<int:pk>/independent/", views_authority.independent, name="independent"),
    path(
        "<int:pk>/independent/record/",
        views_authority.independent_record,
        name="independent_record",
    ),
    path("assessments/", views_authority.assessments, name="assessments"),
    path("assessments/record/", views_authority.assessment_record, name="assessment_record"),
    path("cameras/", views.cameras, name="cameras"),
    path("cameras/<int:pk>/edit/", views.camera_edit, name="camera_edit"),
    path("cameras/test/", views.camera_test, name="camera_test"),
]
