from django.urls import path
from django.views.generic import RedirectView

from oversight import views

app_name = "oversight"
# Reports live under reports/ and the audit log under audit/, so the navigation's
# "Reports" and "Audit" links each light up only for their own pages.
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="oversight:reports"), name="index"),
    path("reports/", views.reports, name="reports"),
    path("reports/effectiveness/", views.effectiveness, name="effectiveness"),
    path("reports/accuracy/", views.accuracy, name="accuracy"),
    path("reports/accuracy/evaluate/", views.evaluation_start, name="evaluation_start"),
    path("reports/accuracy/evaluate/<int:job_id>/", views.evaluation_job, name="evaluation_job"),
    path("reports/equality/", views.equality, name="equality"),
    path("reports/retention/", views.retention, name="retention"),
    path("holds/place/", views.hold_place_by_id, name="hold_place_by_id"),
    path("alerts/<int:pk>/hold/", views.hold_place, name="hold_place"),
    path("alerts/<int:pk>/release/", views.hold_release, name="hold_release"),
    path("audit/", views.audit, name="audit"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("audit/art12/", views.art12_log, name="art12_log"),
    path("subjects/", views.subjects, name="subjects"),
    path("subjects/<str:reference>/", views.subject_history, name="subject_history"),
]
