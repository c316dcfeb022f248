from django.urls import path

from oversight import api

app_name = "oversight_api"
urlpatterns = [
    path("audit/events/", api.AuditEventListApi.as_view(), name="audit_events"),
    path("audit/flags/", api.AuditFlagsApi.as_view(), name="audit_flags"),
    path("audit/verification/", api.AuditVerificationApi.as_view(), name="audit_verification"),
    path("reports/effectiveness/", api.EffectivenessApi.as_view(), name="effectiveness"),
    path("reports/accuracy/", api.AccuracyRunListApi.as_view(), name="accuracy_runs"),
    path("reports/accuracy/<int:run_id>/", api.AccuracyRunApi.as_view(), name="accuracy_run"),
    path("reports/equality/", api.EqualityApi.as_view(), name="equality"),
    path("retention/", api.RetentionApi.as_view(), name="retention"),
    path("holds/", api.HoldListApi.as_view(), name="holds"),
    path("alerts/<int:alert_id>/hold/", api.HoldPlaceApi.as_view(), name="hold_place"),
    path("alerts/<int:alert_id>/release/", api.HoldReleaseApi.as_view(), name="hold_release"),
    path(
        "subjects/<str:reference>/history/",
        api.SubjectHistoryApi.as_view(),
        name="subject_history",
    ),
]
