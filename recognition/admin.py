from django.contrib import admin

from recognition.models import Alert, StreamLease


@admin.register(StreamLease)
class StreamLeaseAdmin(admin.ModelAdmin):
    # Written by workers only; editing a holder by hand would break the claim protocol.
    list_display = ("deployment", "camera", "holder", "heartbeat_at", "connected", "faces_seen")
    list_filter = ("connected", "stopped")
    readonly_fields = [f.name for f in StreamLease._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    # The crop is biometric data: shown only on the audited console pages, never here.
    list_display = ("deployment", "seq", "camera", "subject_reference", "distance", "created_at")
    list_filter = ("legal_hold",)
    exclude = ("crop",)
    readonly_fields = [f.name for f in Alert._meta.fields if f.name != "crop"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
