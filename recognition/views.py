"""Pages of the live console, the images it shows, and the decision form it posts."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core import access
from core.purpose import purpose_from
from core.services import audit_record
from deployments.models import Deployment
from recognition import console
from recognition.health import live_camera_health
from recognition.models import Adjudication, Alert
from recognition.selectors import camera_status as camera_rows
from recognition.services import verification as verification_service
from recognition.services.adjudication import (
    CONFLICTS,
    adjudication_saved_already,
    adjudication_submit,
)


@login_required
def consoles(request):
    access.require(request.user, "console", "list")
    return render(
        request,
        "recognition/consoles.html",
        {"deployments": console.consoles_for(request.user)},
    )


@login_required
def console_page(request, deployment_id):
    deployment = get_object_or_404(Deployment.objects.select_related("site"), pk=deployment_id)
    access.require(request.user, "deployment", "watch", deployment)
    config = {
        "socket_path": f"/ws/deployments/{deployment.pk}/alerts/",
        "reference": deployment.reference,
        "overdue_minutes": settings.LFR_UNADJUDICATED_MINUTES,
        "can_adjudicate": access.can(request.user, "deployment", "adjudicate", deployment),
        "outcomes": [[v, label] for v, label in Adjudication.Outcome.choices],
        "groups": list(settings.LFR_EQUALITY_GROUPS),
        "state": deployment.state,
        "time_zone": settings.TIME_ZONE,
    }
    return render(
        request,
        "recognition/console.html",
        {"deployment": deployment, "config": config},
    )


def _image(request, alert, *, what: str, jpeg):
    try:
        purpose = purpose_from(request)
    except ValidationError as exc:
        return HttpResponseBadRequest(exc.messages[0])
    if not jpeg:
        return HttpResponse(status=404)
    audit_record(
        actor=request.user,
        action=f"alert.{what}_viewed",
        obj=alert,
        purpose=purpose,
        details={"deployment": alert.deployment_id, "seq": alert.seq},
    )
    response = HttpResponse(bytes(jpeg), content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def alert_crop(request, alert_id):
    alert = get_object_or_404(Alert.objects.select_related("deployment"), pk=alert_id)
    access.require(request.user, "alert", "crop", alert)
    return _image(request, alert, what="crop", jpeg=alert.crop)


@login_required
@require_GET
def alert_reference(request, alert_id):
    from watchlists.selectors import reference_image_for_entry

    alert = get_object_or_404(Alert.objects.select_related("deployment"), pk=alert_id)
    access.require(request.user, "alert", "reference", alert)
    image = reference_image_for_entry(alert.entry_id)
    return _image(request, alert, what="reference", jpeg=image.jpeg if image else None)


def _officer_post(request, alert, *, submit, conflicts, saved_already, done: str):
    """The console's decision and verification forms: JSON for the page's fetch (a
    refusal 409 when someone acted first, else 400), a redirect with a message without.

    The console retries a post whose first attempt timed out or met a 5xx ("retry"); that
    attempt may have been saved, and `saved_already` says so instead of a refusal.
    """
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        with transaction.atomic():
            submit()
    except ValidationError as exc:
        retried = request.POST.get("retry") == "1"
        if wants_json and retried and exc.code in conflicts and saved_already():
            return JsonResponse(
                {"alert": console.alert_for_console(alert.pk, request.user), "saved": "before"}
            )
        if wants_json:
            status = 409 if exc.code in conflicts else 400
            return JsonResponse({"error": " ".join(exc.messages)}, status=status)
        messages.error(request, " ".join(exc.messages))
    else:
        if wants_json:
            return JsonResponse({"alert": console.alert_for_console(alert.pk, request.user)})
        messages.success(request, done)
    return redirect("recognition:console", deployment_id=alert.deployment_id)


@login_required
@require_POST
def adjudicate(request, alert_id):
    alert = get_object_or_404(Alert.objects.select_related("deployment"), pk=alert_id)
    access.require(request.user, "alert", "adjudicate", alert)
    return _officer_post(
        request,
        alert,
        submit=lambda: adjudication_submit(
            alert=alert,
            by=request.user,
            data=request.POST,
            corrects_id=request.POST.get("corrects") or None,
        ),
        conflicts=CONFLICTS,
        saved_already=lambda: adjudication_saved_already(
            alert=alert, by=request.user, data=request.POST
        ),
        done=f"Decision on alert {alert.seq} recorded.",
    )


@login_required
@require_POST
def verify(request, alert_id):
    """One officer's own verification of an alert (two-person deployments)."""
    alert = get_object_or_404(Alert.objects.select_related("deployment"), pk=alert_id)
    access.require(request.user, "alert", "adjudicate", alert)
    return _officer_post(
        request,
        alert,
        submit=lambda: verification_service.verification_submit(
            alert=alert, by=request.user, data=request.POST
        ),
        conflicts=verification_service.CONFLICTS,
        saved_already=lambda: verification_service.verification_saved_already(
            alert=alert, by=request.user, data=request.POST
        ),
        done=f"Your verification of alert {alert.seq} is recorded.",
    )


@login_required
@require_GET
def camera_status(request, deployment_id):
    deployment = get_object_or_404(Deployment, pk=deployment_id)
    access.require(request.user, "deployment", "view", deployment)
    rows = camera_rows(deployment)
    return render(
        request,
        "recognition/camera_status.html",
        {"deployment": deployment, "rows": rows},
    )


@login_required
@require_GET
def cameras_health(request):
    """The cameras page's live health: every camera of every live deployment (a fragment)."""
    access.require(request.user, "camera", "health")
    rows = live_camera_health(now=timezone.now())
    return render(
        request,
        "recognition/_camera_health_table.html",
        {"rows": rows, "show_deployment": True},
    )
