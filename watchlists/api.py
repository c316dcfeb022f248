"""REST API for watchlists: one APIView per operation, the same services as the pages."""

from django.core.exceptions import ValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.api import ReasonedAction
from core.exports import jpeg_response
from core.parsers import JSONParser
from core.purpose import purpose_from
from recognition.engine.intake import IntakeError
from watchlists import selectors, services
from watchlists.models import Category, WatchlistEntry

ErrorSerializer = inline_serializer(
    "WatchlistError",
    {"detail": serializers.CharField(), "rule": serializers.CharField(required=False)},
)


def refusal(exc: Exception) -> Response:
    """One shape for every refusal: `detail` says why, `rule` names the intake rule."""
    if isinstance(exc, services.DuplicateError):
        return Response(
            {
                "detail": " ".join(exc.messages),
                "rule": "duplicate",
                "field": "duplicate_reason",
                "near_matches": NearMatchOutput(exc.matches, many=True).data,
            },
            status=400,
        )
    if isinstance(exc, IntakeError):
        return Response({"detail": exc.message, "rule": exc.rule, "field": "image"}, status=400)
    if isinstance(exc, services.TransitionError):
        return Response({"detail": " ".join(exc.messages), "rule": "state"}, status=409)
    if isinstance(exc, ValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {}
        detail = " ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()) or " ".join(
            exc.messages
        )
        return Response({"detail": detail, "rule": "invalid", "fields": fields}, status=400)
    raise exc


@extend_schema_serializer(component_name="WatchlistNearMatch")
class NearMatchOutput(serializers.Serializer):
    """A held image of another subject near this face (the same person, two references?)."""

    subject_reference = serializers.CharField()
    entry_id = serializers.IntegerField()
    entry_state = serializers.CharField()
    image_id = serializers.IntegerField()
    distance = serializers.FloatField()


@extend_schema_serializer(component_name="WatchlistImage")
class ImageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    face_px = serializers.IntegerField()
    sharpness = serializers.FloatField()
    pose_score = serializers.FloatField()
    taken_on = serializers.DateField(allow_null=True, help_text="When taken; null = unknown.")
    age_days = serializers.IntegerField(allow_null=True)
    stale = serializers.BooleanField(
        source="is_stale", help_text="Older than LFR_IMAGE_MAX_AGE_DAYS, or of unknown age."
    )
    held = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    def get_held(self, obj) -> bool:
        return obj.entry.purged_at is None

    def get_url(self, obj) -> str:
        return reverse("watchlists_api:image", args=[obj.pk])


@extend_schema_serializer(component_name="WatchlistEntry")
class EntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    subject_reference = serializers.CharField(source="subject.reference")
    subject_name = serializers.CharField(source="subject.display_name")
    under_18 = serializers.BooleanField(source="subject.is_under_18")
    category = serializers.CharField()
    is_test_subject = serializers.BooleanField()
    legal_basis = serializers.CharField()
    case_reference = serializers.CharField()
    provenance = serializers.CharField()
    state = serializers.CharField()
    submitted_by = serializers.CharField(source="submitted_by.username")
    submitted_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    review_due = serializers.DateField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    purged_at = serializers.DateTimeField(allow_null=True)
    images = ImageOutput(many=True)


@extend_schema_serializer(component_name="WatchlistEntryDetail")
class EntryDetailOutput(EntryOutput):
    near_matches = NearMatchOutput(many=True, help_text="Other subjects' held images near it.")


def entry_detail(entry, near: list) -> dict:
    """One entry with its near matches (already filtered by access and audited)."""
    entry.near_matches = near
    return EntryDetailOutput(entry).data


class EntryListCreateApi(APIView):
    """GET lists entries (filter by state, category, q); POST submits one (multipart)."""

    answers = {
        "get": "One page of the watchlist entries matching the filters.",
        "post": "The submitted entry, pending a second person's approval.",
    }

    parser_classes = [MultiPartParser, FormParser]

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=WatchlistEntry.State.choices, required=False)
        category = serializers.ChoiceField(choices=Category.choices, required=False)
        q = serializers.CharField(required=False, max_length=100)

    @extend_schema_serializer(component_name="WatchlistEntrySubmit")
    class InputSerializer(serializers.Serializer):
        image = serializers.FileField()
        more_images = serializers.ListField(
            child=serializers.FileField(),
            required=False,
            default=list,
            max_length=10,
            help_text="Further photos of the same person (repeat the field), each checked alike.",
        )
        subject_reference = serializers.CharField(max_length=64)
        display_name = serializers.CharField(max_length=200, required=False, default="")
        date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
        category = serializers.ChoiceField(choices=Category.choices)
        legal_basis = serializers.CharField()
        case_reference = serializers.CharField(max_length=120)
        provenance = serializers.CharField()
        is_test_subject = serializers.BooleanField(
            default=False,
            help_text="A blue-list test subject (staff volunteer): frozen only into deployments "
            "that opt in; its alerts are tests, never acted on.",
        )
        other_person_reason = serializers.CharField(
            required=False,
            default="",
            allow_blank=True,
            help_text="Required when a photo lies farther than the same-person bound from the "
            "subject's other photos: why it is the same person.",
        )
        taken_on = serializers.DateField(
            help_text="When the photo was taken (for several, the oldest): the most recent "
            "suitable image; older than LFR_IMAGE_MAX_AGE_DAYS is flagged for review."
        )
        expires_at = serializers.DateTimeField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Default: LFR_ENTRY_EXPIRY_DAYS from now.",
        )
        review_due = serializers.DateField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Default: LFR_ENTRY_REVIEW_DAYS from today.",
        )

    @extend_schema(
        operation_id="watchlist_entries_list",
        parameters=[
            FilterSerializer,
            OpenApiParameter(
                "purpose",
                str,
                required=True,
                description="Why you need the list (a case reference): recorded in the audit log.",
            ),
        ],
        responses={200: EntryOutput(many=True), 400: ErrorSerializer},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.entry_list(user=request.user, **filters.validated_data)
        try:
            purpose = purpose_from(request)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages), "rule": "purpose"}, status=400)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs.prefetch_related("images__entry"), request, view=self)
        services.entries_consult(
            by=request.user,
            purpose=purpose,
            context="api",
            filters=filters.validated_data,
            entries=page,
            total=paginator.page.paginator.count,
        )
        return paginator.get_paginated_response(EntryOutput(page, many=True).data)

    @extend_schema(
        operation_id="watchlist_entries_create",
        request={"multipart/form-data": InputSerializer},
        responses={201: EntryDetailOutput, 400: ErrorSerializer},
    )
    def post(self, request):
        access.require(request.user, "watchlist", "submit")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            entry = services.entry_submit_upload(by=request.user, upload=v["image"], fields=v)
        except (IntakeError, ValidationError) as exc:
            return refusal(exc)
        near = services.entry_near_matches(entry=entry, by=request.user, context="submit")
        return Response(entry_detail(entry, near), status=status.HTTP_201_CREATED)


class EntryDetailApi(APIView):
    answers = "The entry, with its images (ids only) and history."

    @extend_schema(operation_id="watchlist_entries_retrieve", responses=EntryDetailOutput)
    def get(self, request, entry_id: int):
        entry = services.entry_consult(entry_id=entry_id, by=request.user)
        near = services.entry_near_matches(entry=entry, by=request.user)
        return Response(entry_detail(entry, near))


class _EntryAction(ReasonedAction):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema_serializer(component_name="WatchlistDecisionReason")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField()

    def target(self, request, entry_id: int):
        return selectors.entry_get(user=request.user, entry_id=entry_id)  # 404 before 400

    def refuse(self, exc):
        return refusal(exc)


def _entry_schema(op: str) -> dict:
    return {
        "operation_id": f"watchlist_entries_{op}",
        "responses": {200: EntryOutput, 400: ErrorSerializer, 409: ErrorSerializer},
    }


class EntryApproveApi(_EntryAction):
    """Approve a pending entry: the second person of the two-person rule."""

    answers = "The entry, now approved."

    @extend_schema_serializer(component_name="WatchlistApproval")
    class InputSerializer(_EntryAction.InputSerializer):
        duplicate_reason = serializers.CharField(
            required=False,
            default="",
            allow_blank=True,
            help_text="Required when the face is held under another subject: why both.",
        )
        other_person_reason = serializers.CharField(
            required=False,
            default="",
            allow_blank=True,
            help_text="Required when a photo stands apart from the subject's others and no "
            "reason was recorded at submission: why it is the same person.",
        )

    OutputSerializer = EntryOutput
    schema_extra = _entry_schema("approve")

    def act(self, request, target, reason, duplicate_reason="", other_person_reason=""):
        return services.entry_decide(
            entry_id=target.pk,
            by=request.user,
            approve=True,
            reason=reason,
            duplicate_reason=duplicate_reason,
            other_person_reason=other_person_reason,
        )


class EntryRejectApi(_EntryAction):
    """Reject a pending entry."""

    answers = "The entry, now rejected."

    OutputSerializer = EntryOutput
    schema_extra = _entry_schema("reject")

    def act(self, request, target, reason):
        return services.entry_decide(
            entry_id=target.pk, by=request.user, approve=False, reason=reason
        )


class EntryWithdrawApi(_EntryAction):
    """Withdraw an entry before its expiry."""

    answers = "The entry, now withdrawn."

    OutputSerializer = EntryOutput
    schema_extra = _entry_schema("withdraw")

    def act(self, request, target, reason):
        return services.entry_end(entry_id=target.pk, by=request.user, withdraw=True, reason=reason)


class EntryExpireApi(_EntryAction):
    """Expire an entry whose time is up."""

    answers = "The entry, now expired."

    OutputSerializer = EntryOutput
    schema_extra = _entry_schema("expire")

    def act(self, request, target, reason):
        return services.entry_end(
            entry_id=target.pk, by=request.user, withdraw=False, reason=reason
        )


class ImageApi(APIView):
    """The reference JPEG, for a stated purpose (audited), never cached."""

    answers = "The reference image as a JPEG, never cached."

    @extend_schema(
        operation_id="watchlist_images_retrieve",
        parameters=[OpenApiParameter("purpose", str, required=True)],
        responses={
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            400: ErrorSerializer,
        },
    )
    def get(self, request, image_id: int):
        access.require(request.user, "watchlist", "view")
        try:
            purpose = purpose_from(request)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages), "rule": "purpose"}, status=400)
        image = services.image_consult(image_id=image_id, by=request.user, purpose=purpose)
        return jpeg_response(image.jpeg, filename=f"reference-{image.pk}.jpg")


class ImageCheckApi(APIView):
    """The submit form's quality check: the intake verdict as JSON; nothing is stored."""

    answers = "The intake verdict on the photo: usable or why not; nothing is stored."

    parser_classes = [MultiPartParser]

    @extend_schema_serializer(component_name="WatchlistImageCheck")
    class InputSerializer(serializers.Serializer):
        image = serializers.FileField()
        subject_reference = serializers.CharField(
            required=False,
            default="",
            allow_blank=True,
            max_length=64,
            help_text="The subject being proposed: its own images are not reported as near.",
        )

    @extend_schema_serializer(component_name="WatchlistImageVerdict")
    class OutputSerializer(serializers.Serializer):
        ok = serializers.BooleanField()
        rule = serializers.CharField(allow_null=True)
        detail = serializers.CharField()
        width = serializers.IntegerField(required=False)
        height = serializers.IntegerField(required=False)
        face_box = serializers.ListField(child=serializers.IntegerField(), required=False)
        face_px = serializers.IntegerField(required=False)
        sharpness = serializers.FloatField(required=False)
        pose_score = serializers.FloatField(required=False)
        near_matches = NearMatchOutput(many=True, required=False)

    @extend_schema(
        operation_id="watchlist_image_check",
        request={"multipart/form-data": InputSerializer},
        responses=OutputSerializer,
    )
    def post(self, request):
        access.require(request.user, "watchlist", "submit")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        return Response(
            services.image_check_verdict(
                by=request.user, upload=v["image"], subject_reference=v["subject_reference"]
            )
        )
