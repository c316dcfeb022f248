from django.urls import path

from oversight import views

app_name = "oversight"
urlpatterns = [
    path("", views.reports, name="reports"),
    path("effectiveness/", views.effectiveness, name="effectiveness"),
    path("accuracy/", views.accuracy, name="accuracy"),
    path("equality/", views.equality, name="equality"),
    path("retention/", views.retention, name="retention"),
    path("holds/place/", views.hold_place_by_id, name="hold_place_by_id"),
    path("alerts/<int:pk>/hold/", views.hold_place, name="hold_place"),
    path("alerts/<int:pk>/release/", views.hold_release, name="hold_release"),
    path("audit/", views.audit, name="audit"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("subjects/", views.subjects, name="subjects"),
    path("subjects/<str:reference>/", views.subject_history, name="subject_history"),
]
