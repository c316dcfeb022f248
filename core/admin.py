from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.forms import ThrottledAuthenticationForm
from core.models import AuditEvent, LoginThrottle, WorkerHeartbeat


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The admin login obeys the same lock-out as the main login."""


admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.site_header = "lfr administration"

# Second factors are reset through core.mfa.mfa_reset (audited, never one's own), never
# edited or deleted here; django-otp's own admin pages would also show the keys.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Admins may look; every change goes through the services (rules, audit)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_username", "action", "object_type", "object_id", "outcome")
    list_filter = ("outcome", "action")
    search_fields = ("actor_username", "action", "object_id", "purpose")


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    list_display = ("username", "failures", "last_failure_at", "locked_until")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("hostname", "seen_at")
