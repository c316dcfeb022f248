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
from core.models import TaskRun, WorkerHeartbeat
from core.views_mfa import remember_device


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        # The form audited the right password (for /admin/login/ too).
        response = super().form_valid(form)
        if not settings.LFR_MFA_REQUIRED:
            return remember_device(self.request, response)
        return redirect_to_login(self.get_success_url(), reverse("mfa_verify"))


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            services.audit_record(actor=request.user, action="logout", obj=request.user)
        return super().post(request, *args, **kwargs)


@login_required
def home(request):
    return render(request, "core/home.html", {"waiting": work.waiting_for_request(request)})


class Failing(Exception):
    """Raised by a check with its own clear message: failing (red), shown as it is."""


class Warning_(Exception):
    """Raised by a check that is not failing but needs someone to look (amber)."""


def _check_database(now):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return f"{connection.vendor} reachable"


def _check_channel_layer(now):
    from channels.layers import get_channel_layer

    layer = get_channel_layer()

    async def roundtrip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        return await layer.receive(channel)

    async_to_sync(roundtrip)()
    return f"{type(layer).__name__} round-trip ok"


def _check_broker(now):
    from lfr_site.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return f"{conn.transport_cls} reachable"


def _check_worker(now):
    beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if beat is None:
        raise Failing("no worker has reported yet")
    age = (now - beat.seen_at).total_seconds()
    if age > 60:
        raise Failing(f"last heartbeat from {beat.hostname} {age:.0f} s ago")
    return f"{beat.hostname} seen {age:.0f} s ago"


# A beat job counts as not running when its last success is older than this many of its
# periods (the schedule is in settings.CELERY_BEAT_SCHEDULE).
LATE_PERIODS = 3
# Beat jobs at least this frequent (seconds) are red when late; slower ones amber.
URGENT_PERIOD = 60
# Failures and stream errors this recent are shown even when the task has recovered since.
RECENT_SECONDS = 600


def _failing_now(run) -> bool:
    """Its latest run failed (nothing succeeded since)."""
    return bool(run.last_failed_at) and (not run.last_ok_at or run.last_failed_at > run.last_ok_at)


def _check_beat_jobs(now):
    """Every beat job ran lately and its last run succeeded."""
    runs = {run.name: run for run in TaskRun.objects.all()}
    late, failing, notes, fine = [], [], [], []  # notes: amber
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        name, period = entry["task"], float(entry["schedule"])
        run = runs.get(name)
        short = name.rsplit(".", 1)[-1]
        ok_age = (now - run.last_ok_at).total_seconds() if run and run.last_ok_at else None
        if run and _failing_now(run):
            failing.append(f"{short} failing ({run.failures}×): {run.last_error}")
        elif ok_age is None:
            # Beat sends every job once at start (lfr_site.celery); not yet is not late.
            notes.append(f"{short} has not run yet (every {period:.0f} s)")
        elif ok_age > LATE_PERIODS * period + 5:
            # The frequent jobs keep cameras served and deployments on time: red. The
            # hourly ones (retention) only slip after a restart: amber.
            overdue = f"{short} last ran {ok_age:.0f} s ago (every {period:.0f} s)"
            (late if period <= URGENT_PERIOD else notes).append(overdue)
        else:
            fine.append(f"{short} {ok_age:.0f} s ago")
            failed_age = (now - run.last_failed_at).total_seconds() if run.last_failed_at else None
            if failed_age is not None and failed_age < RECENT_SECONDS:
                notes.append(f"{short} failed {failed_age:.0f} s ago: {run.last_error}")
    if failing or late:
        raise Failing("; ".join(failing + late))
    if notes:
        raise Warning_("; ".join(notes))
    return "; ".join(fine)


def _check_stream_sessions(now):
    """The cameras' own stream errors, lately (sessions are not Celery tasks: a session's
    trouble is written on its lease; a camera nobody reads is red under "live cameras")."""
    from recognition.health import lease_errors_since

    problems = [
        f"{err['deployment']} {err['camera']}: {err['error']} ({err['age_s']} s ago)"
        for err in lease_errors_since(now=now, seconds=RECENT_SECONDS)
    ]
    if problems:
        raise Warning_("; ".join(problems))
    return "no stream errors in the last 10 minutes"


def _check_cameras(now):
    from recognition.health import camera_banner, health_summary, live_camera_health

    rows = live_camera_health(now=now)
    if not rows:
        return "no live camera"
    level = health_summary(rows)
    bad = [
        f"{row['deployment']} {camera_banner(row) or row['camera'] + ' ' + row['state']}"
        for row in rows
        if row["level"] != "ok"
    ]
    if level == "fail":
        raise Failing("; ".join(bad))
    if level == "warn":
        raise Warning_("; ".join(bad))
    return f"{len(rows)} live camera{'s' if len(rows) != 1 else ''}, all live"


CHECKS = [
    ("database", _check_database),
    ("channel layer", _check_channel_layer),
    ("broker", _check_broker),
    ("worker heartbeat", _check_worker),
    ("beat jobs", _check_beat_jobs),
    ("stream sessions", _check_stream_sessions),
    ("live cameras", _check_cameras),
]


def run_health_checks(now=None):
    now = now or timezone.now()
    results = []
    for name, check in CHECKS:
        started = time.monotonic()
        try:
            detail = check(now)
            level = "ok"
        except Warning_ as exc:
            detail, level = str(exc), "warn"
        except Failing as exc:
            detail, level = str(exc), "fail"
        except Exception as exc:  # a health page reports failures, it does not raise them
            detail, level = f"{type(exc).__name__}: {exc}", "fail"
        results.append(
            {
                "name": name,
                "ok": level == "ok",
                "level": level,
                "detail": detail,
                "ms": round((time.monotonic() - started) * 1000, 1),
            }
        )
    return results


def _task_rows(now):
    def age(at):
        return None if at is None else round((now - at).total_seconds())

    return [
        {
            "name": run.name,
            "last_ok_age_s": age(run.last_ok_at),
            "last_failed_age_s": age(run.last_failed_at),
            "failures": run.failures,
            "last_error": run.last_error if run.last_failed_at else "",
        }
        for run in TaskRun.objects.order_by("name")
    ]


@login_required
def health(request):
    from recognition.health import live_camera_health

    access.require(request.user, "health", "view")
    now = timezone.now()
    results = run_health_checks(now)
    levels = {r["level"] for r in results}
    status = "fail" if "fail" in levels else "warn" if "warn" in levels else "ok"
    healthy = status != "fail"
    cameras, tasks = live_camera_health(now=now), _task_rows(now)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "healthy": healthy,
                "status": status,
                "checks": results,
                "cameras": cameras,
                "tasks": tasks,
            },
            status=200 if healthy else 503,
        )
    return render(
        request,
        "core/health.html",
        {
            "results": results,
            "healthy": healthy,
            "status": status,
            "cameras": cameras,
            "tasks": tasks,
            "blind_seconds": settings.LFR_CAMERA_BLIND_SECONDS,
        },
    )


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
