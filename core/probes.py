"""Probes for machines: liveness and readiness for a load balancer, Prometheus metrics.

The liveness and readiness answers need no session and say nothing a stranger could use
(no host, version, error text or camera): a load balancer in front of several web
processes asks them. /health/ keeps the detail for signed-in staff. The metrics need
their own bearer token (LFR_METRICS_TOKEN; unset, they are not served at all): they
name deployments and cameras, and a scraper is not a person with a session.
"""

import hmac

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

# What this web process needs to serve a request: not the workers, beat or cameras (a
# blind camera must not take the web tier out of the load balancer).
READINESS = ("database", "channel layer")


@never_cache
def live(request):
    """The process answers: nothing else is looked at."""
    return JsonResponse({"status": "ok"})


@never_cache
def ready(request):
    from core.views import CHECKS

    now = timezone.now()
    checks = {}
    for name, check in CHECKS:
        if name not in READINESS:
            continue
        try:
            check(now)
            checks[name] = "ok"
        except Exception:  # the reason stays on /health/, for staff
            checks[name] = "fail"
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)


@never_cache
def metrics(request):
    token = settings.LFR_METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        response = HttpResponse("a metrics token is required\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(
        exposition(now=timezone.now()), content_type="text/plain; version=0.0.4; charset=utf-8"
    )


def _label(value) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# name: (type, help) of every family /metrics exports.
FAMILIES = {
    "lfr_camera_fps_in": ("gauge", "Frames read per second."),
    "lfr_camera_fps_processed": ("gauge", "Frames analysed per second."),
    "lfr_camera_frames_in_total": ("counter", "Frames read."),
    "lfr_camera_frames_processed_total": ("counter", "Frames analysed."),
    "lfr_camera_frames_dropped_total": (
        "counter",
        "Frames read but never analysed (recognition behind).",
    ),
    "lfr_camera_latency_p95_seconds": (
        "gauge",
        "Capture to analysed, 95th percentile over recent frames.",
    ),
    "lfr_camera_realtime_share": (
        "gauge",
        "Share of the frames the detector wanted that it analysed (1 = real time).",
    ),
    "lfr_camera_reconnects_total": ("counter", "Times the source was reopened."),
    "lfr_camera_last_frame_age_seconds": ("gauge", "Seconds since the last frame was read."),
    "lfr_camera_state": ("gauge", "1 for the camera's health state (recognition.health)."),
    "lfr_alerts_total": ("counter", "Alerts raised, per live deployment."),
    "lfr_task_last_success_age_seconds": (
        "gauge",
        "Seconds since the background task last succeeded.",
    ),
    "lfr_task_failures": ("gauge", "Failures since the task last succeeded."),
    "lfr_worker_last_seen_age_seconds": ("gauge", "Seconds since the Celery worker reported."),
    "lfr_stream_workers": ("gauge", "Stream workers alive now."),
    "lfr_stream_worker_cameras": ("gauge", "Cameras a stream worker reads."),
}
# metric: (health row key, scale)
CAMERA_FIGURES = {
    "lfr_camera_fps_in": ("fps_in", 1),
    "lfr_camera_fps_processed": ("fps_processed", 1),
    "lfr_camera_frames_in_total": ("frames_in", 1),
    "lfr_camera_frames_processed_total": ("frames_processed", 1),
    "lfr_camera_frames_dropped_total": ("frames_dropped", 1),
    "lfr_camera_latency_p95_seconds": ("latency_p95_ms", 0.001),
    "lfr_camera_realtime_share": ("realtime_share", 1),
    "lfr_camera_reconnects_total": ("reconnects", 1),
    "lfr_camera_last_frame_age_seconds": ("last_frame_age_s", 1),
}


class _Exposition:
    """Prometheus text exposition format 0.0.4, each family's samples kept together."""

    def __init__(self):
        self.samples: dict[str, list[str]] = {}

    def add(self, name: str, value, **labels) -> None:
        if value is None:
            return
        text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        sample = f"{name}{{{text}}} {value}" if text else f"{name} {value}"
        self.samples.setdefault(name, []).append(sample)

    def text(self) -> str:
        lines = []
        for name, samples in self.samples.items():
            kind, help_ = FAMILIES[name]
            lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", *samples]
        return "\n".join(lines) + "\n"


def exposition(*, now) -> str:
    from core.models import TaskRun, WorkerHeartbeat
    from deployments.models import Deployment
    from recognition.health import live_camera_health
    from recognition.models import Alert
    from recognition.services.stream_runner import live_stream_workers

    out = _Exposition()
    for row in live_camera_health(now=now):
        labels = {"deployment": row["deployment"], "camera": row["camera"]}
        for name, (key, scale) in CAMERA_FIGURES.items():
            value = row[key]
            if value is not None and scale != 1:
                value = round(value * scale, 6)
            out.add(name, value, **labels)
        out.add("lfr_camera_state", 1, **labels, state=row["state"])
    live = Deployment.objects.filter(state=Deployment.State.LIVE)
    per_deployment = (
        Alert.objects.filter(deployment__in=live)
        .values_list("deployment__reference")
        .annotate(n=Count("pk"))
        .order_by("deployment__reference")
    )
    for reference, alerts in per_deployment:
        out.add("lfr_alerts_total", alerts, deployment=reference)
    for run in TaskRun.objects.order_by("name"):
        age = None if run.last_ok_at is None else round((now - run.last_ok_at).total_seconds())
        out.add("lfr_task_last_success_age_seconds", age, task=run.name)
        out.add("lfr_task_failures", run.failures, task=run.name)
    for beat in WorkerHeartbeat.objects.order_by("hostname"):
        age = round((now - beat.seen_at).total_seconds())
        out.add("lfr_worker_last_seen_age_seconds", age, worker=beat.hostname)
    workers = live_stream_workers()
    out.add("lfr_stream_workers", len(workers))
    for worker in workers:
        out.add("lfr_stream_worker_cameras", worker.serving, worker=worker.name)
    return out.text()
