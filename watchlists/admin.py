from django.contrib import admin

from core.admin import ReadOnlyAdmin
from watchlists.models import Subject, WatchlistEntry


@admin.register(Subject)
class SubjectAdmin(ReadOnlyAdmin):
    list_display = ["reference", "display_name", "date_of_birth", "created_at"]
    search_fields = ["reference", "display_name"]


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(ReadOnlyAdmin):
    list_display = ["pk", "subject", "category", "state", "submitted_at", "expires_at"]
    list_filter = ["state", "category"]
    exclude = ["legal_basis", "case_reference", "provenance"]
