from django.contrib import admin

from core.admin import ReadOnlyAdmin
from recognition.models import StreamLease

# Alerts are deliberately not here: reading one (subject, distance, crop) must go through
# core.access and leave an audit event, which the console pages do and the admin does not.


@admin.register(StreamLease)
class StreamLeaseAdmin(ReadOnlyAdmin):
    # Written by workers only; editing a holder by hand would break the claim protocol.
    list_display = (
        "deployment",
        "camera",
        "holder",
        "heartbeat_at",
        "connected",
        "fps_in",
        "faces_seen",
        "stopped",
    )
    list_filter = ("connected", "stopped")
