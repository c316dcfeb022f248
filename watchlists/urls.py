from django.urls import path

from watchlists import views

app_name = "watchlists"
urlpatterns = [
    path("", views.entries, name="entries"),
    path("queue/", views.queue, name="queue"),
    path("submit/", views.submit, name="submit"),
    path("import/", views.bulk_import, name="import"),
    path("import/<int:job_id>/", views.import_job, name="import_job"),
    path("check/", views.check, name="check"),
    path("entries/<int:entry_id>/", views.entry, name="entry"),
    path("entries/<int:entry_id>/<str:action>/", views.act, name="act"),
    path("subjects/<int:subject_id>/", views.subject, name="subject"),
    path("images/<int:image_id>/", views.image, name="image"),
]
