"""Read-only admin: every change goes through the services (rules, audit), never here."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from deployments.models import Camera, Deployment, DeploymentRecord, Site


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ["name", "address"]


@admin.register(Camera)
class CameraAdmin(ReadOnlyAdmin):
    list_display = ["name", "site", "enabled", "loop"]


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "site", "starts_at", "ends_at", "state"]
    list_filter = ["state", "use_case"]


# DeploymentWatchlist is deliberately not registered: encodings never reach a page.


@admin.register(DeploymentRecord)
class DeploymentRecordAdmin(ReadOnlyAdmin):
    list_display = ["deployment", "computed_at", "reviewed_at", "signed_off_at"]
