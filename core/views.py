import time

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from core import access, services, work
from core.forms import ThrottledAuthenticationForm
from core.models import WorkerHeartbeat


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if not settings.LFR_MFA_REQUIRED:
            services.login_succeeded(user=form.get_user())
            return response
        # The password is right; the throttle keeps counting until the second factor is.
        services.login_succeeded(user=form.get_user(), reset=False)
        return redirect_to_login(self.get_success_url(), reverse("mfa_verify"))


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            services.audit_record(actor=request.user, action="logout", obj=request.user)
        return super().post(request, *args, **kwargs)


@login_required
def home(request):
    return render(request, "core/home.html", {"waiting": work.waiting_for_request(request)})


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return f"{connection.vendor} reachable"


def _check_channel_layer():
    from channels.layers import get_channel_layer

    layer = get_channel_layer()

    async def roundtrip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        return await layer.receive(channel)

    async_to_sync(roundtrip)()
    return f"{type(layer).__name__} round-trip ok"


def _check_broker():
    from lfr_site.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return f"{conn.transport_cls} reachable"


def _check_worker():
    beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if beat is None:
        raise RuntimeError("no worker has reported yet")
    age = (timezone.now() - beat.seen_at).total_seconds()
    if age > 60:
        raise RuntimeError(f"last heartbeat from {beat.hostname} {age:.0f} s ago")
    return f"{beat.hostname} seen {age:.0f} s ago"


CHECKS = [
    ("database", _check_database),
    ("channel layer", _check_channel_layer),
    ("broker", _check_broker),
    ("worker heartbeat", _check_worker),
]


def run_health_checks():
    results = []
    for name, check in CHECKS:
        started = time.monotonic()
        try:
            detail, ok = check(), True
        except Exception as exc:  # a health page reports failures, it does not raise them
            detail, ok = f"{type(exc).__name__}: {exc}", False
        results.append(
            {
                "name": name,
                "ok": ok,
                "detail": detail,
                "ms": round((time.monotonic() - started) * 1000, 1),
            }
        )
    return results


@login_required
def health(request):
    access.require(request.user, "health", "view")
    results = run_health_checks()
    healthy = all(r["ok"] for r in results)
    if request.GET.get("format") == "json":
        return JsonResponse({"healthy": healthy, "checks": results}, status=200 if healthy else 503)
    return render(request, "core/health.html", {"results": results, "healthy": healthy})


@login_required
def notices(request):
    """Your notices, newest first, 50 a page; opening the page marks the shown ones read."""
    from django.core.paginator import Paginator

    from core import notices as notice_services

    access.require(request.user, "notice", "list")
    page = Paginator(notice_services.notices_for(request.user), 50).get_page(
        request.GET.get("page")
    )
    unread = [n.pk for n in page if n.read_at is None]
    response = render(request, "core/notices.html", {"page": page, "unread": set(unread)})
    notice_services.notices_mark_read(user=request.user, ids=unread)
    return response


@login_required
def api_tokens(request):
    """Administrators create (key shown once) and revoke integrations' API tokens."""
    from django.core.exceptions import ValidationError

    from core import tokens
    from core.models import ApiToken

    access.require(request.user, "api_token", "list")
    created, key, errors = None, "", []
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                tokens.api_token_revoke(by=request.user, token_id=int(request.POST["revoke"]))
            else:
                created, key = tokens.api_token_create(
                    by=request.user,
                    name=request.POST.get("name", ""),
                    role=request.POST.get("role", ""),
                )
        except (ValidationError, ValueError, ApiToken.DoesNotExist) as exc:
            errors = getattr(exc, "messages", None) or ["No such token."]
    response = render(
        request,
        "core/api_tokens.html",
        {
            "tokens": ApiToken.objects.select_related("created_by"),
            "roles": [(r, access.ROLE_LABELS[r]) for r in tokens.TOKEN_ROLES],
            "created": created,
            "key": key,
            "errors": errors,
        },
        status=400 if errors else 200,
    )
    response["Cache-Control"] = "no-store"  # the key is in this page once
    return response
