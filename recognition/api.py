"""API of the live console: alerts after a seq, decisions and corrections.

Images are links in each alert (`crop_url`, `reference_url`): fetching one needs a
`purpose` and is audited (400 without it).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.services import audit_record
from deployments.models import Deployment
from recognition import console, health
from recognition.models import Adjudication, Alert
from recognition.serializers import AlertSerializer, alert_data
from recognition.services import verification as verification_service
from recognition.services.adjudication import CONFLICTS, adjudication_submit


class DecisionInputSerializer(serializers.Serializer):
    is_true_match = serializers.BooleanField()
    confirmed = serializers.BooleanField()
    outcome = serializers.ChoiceField(choices=Adjudication.Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    perceived_group = serializers.CharField(required=False, allow_blank=True)


class AlertListApi(APIView):
    """Alerts of a deployment raised or seen again after a cursor, in the order they
    changed: the console's replay, over HTTP. The next cursor is the largest
    `changed_seq` received; an alert with `seq` at or below it is one already held."""

    answers = "The alerts raised or seen again after the cursor, oldest change first."

    class Pagination(PageNumberPagination):
        page_size = console.BATCH

    @extend_schema(
        parameters=[OpenApiParameter("after_seq", int, required=False)],
        responses=AlertSerializer(many=True),
    )
    def get(self, request, deployment_id):
        deployment = get_object_or_404(Deployment, pk=deployment_id)
        access.require(request.user, "deployment", "watch", deployment)
        try:
            after = max(0, int(request.query_params.get("after_seq") or 0))
        except ValueError:
            return Response({"after_seq": "must be a whole number"}, status=400)
        qs = console.console_alerts().filter(deployment=deployment, changed_seq__gt=after)
        qs = qs.order_by("changed_seq")
        paginator = self.Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        audit_record(
            actor=request.user,
            action="alert.list",
            obj=deployment,
            details={"after_seq": after, "count": len(page)},
        )
        data = alert_data(page, purpose=console.console_purpose(deployment), viewer=request.user)
        return paginator.get_paginated_response(data)


def _adjudicate_request(request, alert, corrects_id=None):
    access.require(request.user, "alert", "adjudicate", alert)
    serializer = DecisionInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        with transaction.atomic():
            adjudication_submit(
                alert=alert,
                by=request.user,
                data=serializer.validated_data,
                corrects_id=corrects_id,
            )
    except ValidationError as exc:
        code = status.HTTP_409_CONFLICT if exc.code in CONFLICTS else 400
        return Response({"detail": " ".join(exc.messages)}, status=code)
    data = console.alert_for_console(alert.pk, request.user)
    return Response(data, status=status.HTTP_201_CREATED)


class AdjudicationCreateApi(APIView):
    """Record the decision on an alert (once; 409 if one exists — correct it instead)."""

    answers = "The alert with its decision recorded."

    @extend_schema(request=DecisionInputSerializer, responses={201: AlertSerializer})
    def post(self, request, alert_id):
        alert = get_object_or_404(Alert.objects.select_related("deployment"), pk=alert_id)
        return _adjudicate_request(request, alert)


class AdjudicationCorrectApi(APIView):
    """Correct a decision: a new audited record pointing at the one it corrects."""

    answers = "The alert with the correction recorded."

    @extend_schema(request=DecisionInputSerializer, responses={201: AlertSerializer})
    def post(self, request, adjudication_id):
        first = get_object_or_404(
            Adjudication.objects.select_related("alert__deployment"), pk=adjudication_id
        )
        return _adjudicate_request(request, first.alert, corrects_id=first.pk)


class VerificationInputSerializer(serializers.Serializer):
    is_true_match = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class VerificationCreateApi(APIView):
    """Record your own verification of an alert on a two-person deployment (EU AI Act
    Art. 14(5)): once per officer (409 the second time), two officers per alert. The
    answer shows your verification, not the other officer's until both are recorded."""
    answers = "The alert with this officer's verification recorded (what this officer may see)."

    @extend_schema(request=VerificationInputSerializer, responses={201: AlertSerializer})
    def post(self, request, alert_id):
        alert = get_object_or_404(Alert.objects.select_related("deployment"), pk=alert_id)
        access.require(request.user, "alert", "adjudicate", alert)
        serializer = VerificationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                verification_service.verification_submit(
                    alert=alert, by=request.user, data=serializer.validated_data
                )
        except ValidationError as exc:
            conflict = exc.code in verification_service.CONFLICTS
            code = status.HTTP_409_CONFLICT if conflict else 400
            return Response({"detail": " ".join(exc.messages)}, status=code)
        data = console.alert_for_console(alert.pk, request.user)
        return Response(data, status=status.HTTP_201_CREATED)


class CameraHealthOutputSerializer(serializers.Serializer):
    """One camera's stream health (recognition.health.camera_health)."""

    camera_id = serializers.IntegerField()
    camera = serializers.CharField()
    deployment_id = serializers.IntegerField()
    deployment = serializers.CharField()
    state = serializers.ChoiceField(choices=list(health.LEVEL))
    level = serializers.ChoiceField(choices=["ok", "warn", "fail"])
    why = serializers.CharField()
    banner = serializers.CharField()
    blind_for_s = serializers.IntegerField(allow_null=True)
    fps_in = serializers.FloatField()
    fps_processed = serializers.FloatField()
    source_fps = serializers.FloatField()
    frames_in = serializers.IntegerField()
    frames_processed = serializers.IntegerField()
    frames_dropped = serializers.IntegerField()
    latency_p95_ms = serializers.FloatField(allow_null=True)
    last_frame_at = serializers.DateTimeField(allow_null=True)
    last_frame_age_s = serializers.FloatField(allow_null=True)
    reconnects = serializers.IntegerField()
    last_error = serializers.CharField()
    last_error_at = serializers.DateTimeField(allow_null=True)
    heartbeat_age_s = serializers.FloatField(allow_null=True)
    degraded = serializers.BooleanField()
    realtime_share = serializers.FloatField(
        allow_null=True, help_text="Share of real time analysed over the last few heartbeats."
    )
    connected = serializers.BooleanField()


def _health_rows(rows):
    data = [{**row, "banner": health.camera_banner(row)} for row in rows]
    return CameraHealthOutputSerializer(data, many=True).data


class CameraHealthListApi(APIView):
    """Every camera of every live deployment: its stream health now."""

    answers = "Every camera of every live deployment, with its stream health now."

    @extend_schema(responses=CameraHealthOutputSerializer(many=True))
    def get(self, request):
        from rest_framework.pagination import PageNumberPagination

        access.require(request.user, "camera", "health")
        paginator = PageNumberPagination()  # one envelope for every list of the API
        rows = _health_rows(health.live_camera_health(now=timezone.now()))
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(page)


class DeploymentCameraHealthApi(APIView):
    """The cameras of one deployment: their health now, and the console's banners."""

    answers = "The deployment's cameras with their health, and the console's banners."

    @extend_schema(
        responses=inline_serializer(
            "DeploymentCameraHealth",
            {
                "level": serializers.CharField(),
                "banners": serializers.ListField(child=serializers.CharField()),
                "cameras": CameraHealthOutputSerializer(many=True),
            },
        )
    )
    def get(self, request, deployment_id):
        deployment = get_object_or_404(Deployment, pk=deployment_id)
        access.require(request.user, "deployment", "view", deployment)
        rows = health.deployment_camera_health(deployment, now=timezone.now())
        banners = [b for b in map(health.camera_banner, rows) if b]
        return Response(
            {
                "level": health.health_summary(rows),
                "banners": banners,
                "cameras": _health_rows(rows),
            }
        )
