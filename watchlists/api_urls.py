from django.urls import path

from watchlists import api

app_name = "watchlists_api"
urlpatterns = [
    path("entries/", api.EntryListCreateApi.as_view(), name="entries"),
    path("entries/<int:entry_id>/", api.EntryDetailApi.as_view(), name="entry"),
    path("entries/<int:entry_id>/approve/", api.EntryApproveApi.as_view(), name="approve"),
    path("entries/<int:entry_id>/reject/", api.EntryRejectApi.as_view(), name="reject"),
    path("entries/<int:entry_id>/withdraw/", api.EntryWithdrawApi.as_view(), name="withdraw"),
    path("entries/<int:entry_id>/expire/", api.EntryExpireApi.as_view(), name="expire"),
    path("images/<int:image_id>/", api.ImageApi.as_view(), name="image"),
    path("check/", api.ImageCheckApi.as_view(), name="check"),
]
