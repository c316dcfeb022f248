from django.contrib import admin

from watchlists.models import Subject, WatchlistEntry


# Read-only: every change goes through the services (two-person rule, audit); the admin
# only lets administrators look, never approve or edit.
class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Subject)
class SubjectAdmin(ReadOnlyAdmin):
    list_display = ["reference", "display_name", "date_of_birth", "created_at"]
    search_fields = ["reference", "display_name"]


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(ReadOnlyAdmin):
    list_display = ["pk", "subject", "category", "state", "submitted_at", "expires_at"]
    list_filter = ["state", "category"]
    exclude = ["legal_basis", "case_reference", "provenance"]
