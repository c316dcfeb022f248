"""Oversight API: the same reads as the pages, as JSON, and the legal-hold writes.

One APIView per operation. Every endpoint asks core.access first; the only writes are
legal holds (command staff and administrators) and re-verifying the audit chain.
"""

from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.api import ReasonedAction
from core.purpose import purpose_from
from oversight import selectors, services
from recognition.models import Alert
from recognition.services.holds import alert_hold_place, alert_hold_release


class AuditFilterSerializer(serializers.Serializer):
    user = serializers.CharField(required=False, allow_blank=True)
    action = serializers.CharField(required=False, allow_blank=True)
    object_type = serializers.CharField(required=False, allow_blank=True)
    object_id = serializers.CharField(required=False, allow_blank=True)
    outcome = serializers.ChoiceField(choices=["allowed", "denied", ""], required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor_username = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    outcome = serializers.CharField()
    purpose = serializers.CharField()
    request_id = serializers.CharField()
    details = serializers.JSONField()
    hash = serializers.CharField()


def _audit_filters(request) -> dict:
    s = AuditFilterSerializer(data=request.query_params)
    s.is_valid(raise_exception=True)
    return {k: v for k, v in s.validated_data.items() if v not in (None, "")}


class AuditEventListApi(APIView):
    """The audit log, filtered and paginated; reading it is itself audited."""

    answers = "One page of audit events matching the filters, newest first."

    @extend_schema(parameters=[AuditFilterSerializer], responses=AuditEventSerializer(many=True))
    def get(self, request):
        access.require(request.user, "audit", "list")
        filters = _audit_filters(request)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.audit_events(**filters), request, view=self)
        services.audit_read_record(
            by=request.user,
            action="audit.viewed",
            details={"filters": {k: str(v) for k, v in filters.items()}, "api": True},
        )
        return paginator.get_paginated_response(AuditEventSerializer(page, many=True).data)


class AuditFlagsApi(APIView):
    answers = "The audit flags raised in the period (patterns oversight should look at)."

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OversightAuditFlagsOut"

        # In UTC: a far-past filter echoed in local time has a seconds offset (London's
        # -00:01:15 before 1847), which is no RFC 3339 date-time.
        since = serializers.DateTimeField(default_timezone=UTC)
        until = serializers.DateTimeField(default_timezone=UTC)
        total = serializers.IntegerField()
        heavy_viewers = serializers.ListField(child=serializers.DictField())
        repeated_denials = serializers.ListField(child=serializers.DictField())
        weak_purposes = serializers.ListField(child=serializers.DictField())
        out_of_hours = serializers.ListField(child=serializers.DictField())
        live_outside_window = serializers.ListField(child=serializers.DictField())
        rules = serializers.DictField()

    @extend_schema(parameters=[AuditFilterSerializer], responses=OutputSerializer)
    def get(self, request):
        access.require(request.user, "audit", "list")
        filters = _audit_filters(request)
        flags = selectors.audit_flags(
            since=filters.get("since"), until=filters.get("until"), user=filters.get("user", "")
        )
        flags["weak_purposes"] = [
            {"seq": f["event"].seq, "user": f["event"].actor_username, "reason": f["reason"]}
            for f in flags["weak_purposes"]
        ]
        flags["out_of_hours"] = [
            {"seq": f["event"].seq, "user": f["event"].actor_username,
             "deployment": f["deployment"].reference, "when": f["when"]}
            for f in flags["out_of_hours"]
        ]  # fmt: skip
        flags["live_outside_window"] = [
            {**f, "deployment": f["deployment"].reference} for f in flags["live_outside_window"]
        ]
        services.audit_read_record(by=request.user, action="audit.flags_viewed", details={})
        return Response(self.OutputSerializer(flags).data)


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    at = serializers.CharField()
    bad_seq = serializers.IntegerField(allow_null=True)
    why = serializers.CharField(allow_blank=True)


class AuditVerificationApi(APIView):
    """The chain's last verification (cached), or verify again with POST."""

    answers = {
        "get": "The audit chain's last verification.",
        "post": "The audit chain verified again now: intact, or where it breaks.",
    }

    @extend_schema(responses=VerificationSerializer)
    def get(self, request):
        access.require(request.user, "audit", "view")
        return Response(VerificationSerializer(services.audit_chain_status(by=request.user)).data)

    @extend_schema(request=None, responses=VerificationSerializer)
    def post(self, request):
        access.require(request.user, "audit", "verify")
        return Response(VerificationSerializer(services.audit_chain_verify(by=request.user)).data)


class EffectivenessApi(APIView):
    answers = "Alerts, decisions and outcomes grouped as asked, with rates and intervals."

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OversightEffectivenessIn"

        by = serializers.ChoiceField(choices=list(selectors.GROUPINGS), default="month")
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        use_case = serializers.CharField(required=False, allow_blank=True)
        site = serializers.IntegerField(required=False)

    class RowSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OversightEffectivenessRow"

        key = serializers.CharField()
        label = serializers.CharField()
        deployments = serializers.IntegerField()
        faces_seen = serializers.IntegerField()
        alerts = serializers.IntegerField()
        true_alerts = serializers.IntegerField()
        true_confirmed = serializers.IntegerField()
        true_unconfirmed = serializers.IntegerField()
        false_alerts = serializers.IntegerField()
        false_confirmed = serializers.IntegerField()
        false_unconfirmed = serializers.IntegerField()
        unadjudicated = serializers.IntegerField()
        false_alert_rate = serializers.FloatField(allow_null=True)
        median_minutes_to_decision = serializers.FloatField(allow_null=True)
        outcome_arrest = serializers.IntegerField()
        outcome_other = serializers.IntegerField()
        outcome_no_action = serializers.IntegerField()
        verified = serializers.IntegerField()
        single_verified = serializers.IntegerField()
        verification_disagreed = serializers.IntegerField()

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OversightEffectivenessOut"

        by = serializers.CharField()
        rows = serializers.ListField(child=serializers.DictField())
        total = serializers.DictField()

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request):
        access.require(request.user, "report", "view")
        s = self.InputSerializer(data=request.query_params)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        report = selectors.effectiveness(
            by=data["by"],
            since=data.get("since"),
            until=data.get("until"),
            use_case=data.get("use_case", ""),
            site_id=data.get("site"),
        )
        report["rows"] = self.RowSerializer(report["rows"], many=True).data
        report["total"] = self.RowSerializer(report["total"]).data
        return Response(self.OutputSerializer(report).data)


class EvaluationRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    created_at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="pairs (1:1) or identification (1:N, open set)")
    dataset = serializers.CharField()
    pairs = serializers.IntegerField(help_text="labelled pairs, or searches for a 1:N run")
    operating_threshold = serializers.FloatField()


class AccuracyRunListApi(APIView):
    answers = "Every stored accuracy run, newest first."

    @extend_schema(responses=EvaluationRunSerializer(many=True))
    def get(self, request):
        access.require(request.user, "evaluation", "list")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.evaluation_runs(), request, view=self)
        return paginator.get_paginated_response(EvaluationRunSerializer(page, many=True).data)


class AccuracyRunApi(APIView):
    answers = "One accuracy run: its dataset, operating point and ROC rows."

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OversightAccuracyRunOut"

        run = EvaluationRunSerializer()
        rows = serializers.ListField(child=serializers.DictField())
        operating_point = serializers.DictField()
        no_face_count = serializers.IntegerField()
        summary = serializers.DictField(
            required=False,
            help_text="1:N runs: people, mated and non-mated searches, comparisons, method",
        )

    @extend_schema(responses=OutputSerializer)
    def get(self, request, run_id):
        access.require(request.user, "evaluation", "view")
        run = get_object_or_404(selectors.evaluation_runs(), pk=run_id)
        return Response(self.OutputSerializer(selectors.accuracy(run)).data)


class EqualityApi(APIView):
    answers = "False alerts by perceived group with Wilson intervals, for the period."

    class RowSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OversightEqualityRow"

        group = serializers.CharField()
        alerts = serializers.IntegerField()
        false_alerts = serializers.IntegerField()
        rate = serializers.FloatField(allow_null=True)
        ci_low = serializers.FloatField(allow_null=True)
        ci_high = serializers.FloatField(allow_null=True)
        too_few = serializers.BooleanField()

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OversightEqualityOut"

        rows = serializers.ListField(child=serializers.DictField())
        conclusion = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        access.require(request.user, "report", "view")
        report = selectors.equality()
        report["rows"] = self.RowSerializer(report["rows"], many=True).data
        return Response(self.OutputSerializer(report).data)


class RetentionApi(APIView):
    answers = "What is kept, for how long, and what is due for deletion."

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OversightRetentionOut"

        settings = serializers.DictField()
        alerts = serializers.DictField()
        alert_cutoff = serializers.DateTimeField()
        snapshots = serializers.DictField()
        entries = serializers.ListField(child=serializers.DictField())
        entries_awaiting_purge = serializers.IntegerField()
        images = serializers.DictField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        access.require(request.user, "alert", "list")
        return Response(self.OutputSerializer(selectors.retention()).data)


class HeldAlertSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    deployment = serializers.CharField(source="deployment.reference")
    created_at = serializers.DateTimeField()
    legal_hold = serializers.BooleanField()
    hold_reason = serializers.CharField()
    held_by = serializers.CharField(source="held_by.username", allow_null=True, default=None)
    held_at = serializers.DateTimeField(allow_null=True)


class HoldListApi(APIView):
    answers = "The alerts under legal hold."

    @extend_schema(responses=HeldAlertSerializer(many=True))
    def get(self, request):
        access.require(request.user, "alert", "list")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.held_alerts(), request, view=self)
        return paginator.get_paginated_response(HeldAlertSerializer(page, many=True).data)


class HoldInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class _HoldAction(ReasonedAction):
    InputSerializer = HoldInputSerializer
    OutputSerializer = HeldAlertSerializer
    action = ""

    def target(self, request, alert_id):
        alert = get_object_or_404(Alert.objects.defer("crop"), pk=alert_id)
        access.require(request.user, "alert", self.action, alert)
        return alert


class HoldPlaceApi(_HoldAction):
    """Place a legal hold (command staff, administrators, signed in: an API token gets
    403); oversight gets 403."""

    answers = "The alert, now under legal hold."

    action = "hold"

    def act(self, request, target, reason):
        return alert_hold_place(alert=target, by=request.user, reason=reason)


class HoldReleaseApi(_HoldAction):
    """Lift a legal hold, with a reason (command staff, administrators, signed in: an API
    token gets 403)."""

    answers = "The alert, its legal hold lifted."

    action = "release"

    def act(self, request, target, reason):
        return alert_hold_release(alert=target, by=request.user, reason=reason)


class SubjectHistoryApi(APIView):
    """A subject's trail across apps; a sensitive read, refused (400) without a purpose."""

    answers = "The subject's trail across watchlist entries, deployments and alerts."

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OversightSubjectHistoryOut"

        reference = serializers.CharField()
        entries = serializers.ListField(child=serializers.DictField())
        alerts = serializers.ListField(child=serializers.DictField())
        events = AuditEventSerializer(many=True)

    @extend_schema(
        parameters=[OpenApiParameter("purpose", str, required=True)], responses=OutputSerializer
    )
    def get(self, request, reference):
        access.require(request.user, "subject", "view")
        try:
            purpose = purpose_from(request)
        except DjangoValidationError as exc:
            raise ValidationError({"purpose": exc.messages})
        history = services.subject_history_read(
            by=request.user, reference=reference, purpose=purpose, api=True
        )
        if history is None:
            raise Http404("No such subject.")
        data = {
            "reference": reference,
            "entries": [
                {"id": e.pk, "category": e.category, "state": e.state,
                 "submitted_at": e.submitted_at, "ended_at": e.ended_at, "purged_at": e.purged_at}
                for e in history["entries"]
            ],
            "alerts": [
                {"id": a.pk, "deployment": a.deployment.reference, "created_at": a.created_at,
                 "distance": a.distance, "is_true_match": a.eff_true, "legal_hold": a.legal_hold}
                for a in history["alerts"]
            ],
            "events": history["events"],
        }  # fmt: skip
        return Response(self.OutputSerializer(data).data)
