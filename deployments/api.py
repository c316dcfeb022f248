"""Deployment API: one APIView per operation; access via core.access, rules in services."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.api import ReasonedAction
from core.services import audit_record
from deployments import selectors, services
from deployments.forms import clean_iso_week
from deployments.models import Camera, Deployment, IndependentAuthorisation, Site, UseCase
from deployments.services.camera_test import CameraTestThrottled, camera_url_test
from recognition.engine.sources import redact
from watchlists.models import Category

TAG = ["deployments"]


def _column(model, field: str) -> int:
    """A text column's length: the API refuses longer input with a 400, not a DB error."""
    return model._meta.get_field(field).max_length


# Nested Input/OutputSerializer classes carry `Meta.ref_name`: every app nests classes of
# the same name, and drf-spectacular would otherwise merge them into one schema component.


def _call(fn, **kwargs):
    """Run a service; its refusals become 400 responses with the same clear message."""
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        raise ValidationError({"detail": exc.messages})


def _deployment(request, pk: int, action: str) -> Deployment:
    deployment = selectors.deployment_get(pk)
    if deployment is None:
        raise Http404("No such deployment.")
    access.require(request.user, "deployment", action, deployment)
    return deployment


class DeploymentOut(serializers.ModelSerializer):
    site = serializers.CharField(source="site.name")
    cameras = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    officers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    requested_by = serializers.CharField(source="requested_by.username")
    authorised_by = serializers.CharField(
        source="authorised_by.username", default=None, allow_null=True
    )

    class Meta:
        model = Deployment
        fields = [
            "id",
            "reference",
            "state",
            "use_case",
            "site",
            "site_id",
            "cameras",
            "officers",
            *services.PLAN_TERMS,
            "requested_by",
            "submitted_at",
            "authorised_by",
            "authorised_at",
            "decision_reason",
            "started_at",
            "ended_at",
            "end_reason",
            "faces_seen",
            # Echoed back as `seen_updated_at` when authorising: what was seen is what runs.
            "updated_at",
        ]


class PlanIn(serializers.Serializer):
    use_case = serializers.ChoiceField(choices=UseCase.choices)
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    cameras = serializers.PrimaryKeyRelatedField(queryset=Camera.objects.all(), many=True)
    officers = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(groups__name=access.OFFICER),
        many=True,
        required=False,
    )
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    necessity = serializers.CharField()
    proportionality = serializers.CharField()
    location_rationale = serializers.CharField()
    watchlist_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices)
    )
    max_watchlist_size = serializers.IntegerField(
        min_value=1, max_value=services.MAX_WATCHLIST_SIZE
    )
    include_minors = serializers.BooleanField(default=False)
    minors_reason = serializers.CharField(required=False, allow_blank=True, default="")
    include_test_subjects = serializers.BooleanField(
        default=False,
        help_text="Blue-list testing: freeze the approved test subjects (staff volunteers) "
        "in too; their alerts are tests, and the record reports the live true-positive rate.",
    )
    threshold = serializers.FloatField(required=False)
    dpia_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=_column(Deployment, "dpia_reference"),
    )
    policy_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=_column(Deployment, "policy_reference"),
    )
    equality_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=_column(Deployment, "equality_reference"),
    )
    public_notice = serializers.BooleanField(default=True)
    no_notice_reason = serializers.CharField(required=False, allow_blank=True, default="")
    urgent = serializers.BooleanField(default=False)
    # Left out: the plan keeps what it has, or the force's default (two where required).
    verification = serializers.ChoiceField(choices=Deployment.Verification.choices, required=False)


class Paginated(PageNumberPagination):
    page_size = 50


class DeploymentListApi(APIView):
    answers = "One page of the deployments this user may see, newest first."

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DeploymentListFilter"

        state = serializers.ChoiceField(choices=Deployment.State.choices, required=False)

    @extend_schema(tags=TAG, parameters=[FilterSerializer], responses=DeploymentOut(many=True))
    def get(self, request):
        access.require(request.user, "deployment", "list")
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.deployments_visible_to(request.user).prefetch_related("cameras", "officers")
        if filters.validated_data.get("state"):
            qs = qs.filter(state=filters.validated_data["state"])
        paginator = Paginated()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(DeploymentOut(page, many=True).data)


class DeploymentCreateApi(APIView):
    answers = "The planned deployment, created as a draft."
    alias_of = "POST /api/v1/deployments/"
    InputSerializer = PlanIn

    @extend_schema(tags=TAG, request=PlanIn, responses={201: DeploymentOut})
    def post(self, request):
        access.require(request.user, "deployment", "create")
        data = PlanIn(data=request.data)
        data.is_valid(raise_exception=True)
        plan = dict(data.validated_data)
        cameras, officers = plan.pop("cameras"), plan.pop("officers", [])
        d = _call(
            services.deployment_create, by=request.user, cameras=cameras, officers=officers, **plan
        )
        return Response(DeploymentOut(d).data, status=201)


class DeploymentDetailApi(APIView):
    answers = "The deployment."

    @extend_schema(tags=TAG, responses=DeploymentOut)
    def get(self, request, pk):
        d = _deployment(request, pk, "view")
        audit_record(actor=request.user, action="deployment.view", obj=d, details={"via": "api"})
        return Response(DeploymentOut(d).data)


class DeploymentUpdateApi(APIView):
    answers = "The deployment with its plan changed (drafts only)."
    alias_of = "PATCH /api/v1/deployments/{id}/"

    class InputSerializer(PlanIn):
        class Meta:
            ref_name = "DeploymentUpdateIn"

    @extend_schema(tags=TAG, request=InputSerializer, responses=DeploymentOut)
    def post(self, request, pk):
        return _plan_update(request, pk, partial=False)


def _plan_update(request, pk, *, partial: bool):
    """The whole plan (the old POST .../update/) or the fields given (PATCH); what is not
    given stays as it is (`deployment_update` merges over the current plan)."""
    d = _deployment(request, pk, "edit")
    data = DeploymentUpdateApi.InputSerializer(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    plan = dict(data.validated_data)
    cameras = plan.pop("cameras") if "cameras" in plan else list(d.cameras.all())
    officers = plan.pop("officers", None)
    d = _call(
        services.deployment_update,
        deployment=d,
        by=request.user,
        cameras=cameras,
        officers=officers,
        **plan,
    )
    return Response(DeploymentOut(d).data)


class DeploymentResourceApi(DeploymentDetailApi):
    """GET reads one deployment; PATCH changes the plan fields given (drafts and plans
    not yet live)."""

    answers = {
        "get": DeploymentDetailApi.answers,
        "patch": "The deployment with the given plan fields changed; the rest as it was.",
    }

    @extend_schema(tags=TAG, request=DeploymentUpdateApi.InputSerializer, responses=DeploymentOut)
    def patch(self, request, pk):
        return _plan_update(request, pk, partial=True)


class DeploymentSubmitApi(APIView):
    answers = "The deployment, now submitted for authorisation."

    @extend_schema(tags=TAG, request=None, responses=DeploymentOut)
    def post(self, request, pk):
        d = _deployment(request, pk, "submit")
        d = _call(services.deployment_submit, deployment=d, by=request.user)
        return Response(DeploymentOut(d).data)


class OperatingPointOut(serializers.Serializer):
    """What the plan's threshold means at its watchlist size (recognition.selectors)."""

    class Meta:
        ref_name = "OperatingPointOut"

    watchlist_size = serializers.IntegerField()
    threshold = serializers.FloatField(help_text="face distance: alerts at or below it")
    fpir_bound = serializers.FloatField(
        help_text="95 % upper bound on the share of passers-by raising a false alert"
    )
    tpir = serializers.FloatField(
        allow_null=True, help_text="share of watchlisted people recognised, measured"
    )
    policy = serializers.FloatField(allow_null=True, help_text="LFR_MAX_FALSE_ALERT_RATE")
    policy_threshold = serializers.FloatField(
        allow_null=True, help_text="the loosest threshold the policy allows at this size"
    )
    supported = serializers.BooleanField(
        allow_null=True, help_text="false: the policy cannot support this size (refused)"
    )
    within_policy = serializers.BooleanField(allow_null=True)
    run_id = serializers.IntegerField(allow_null=True, help_text="the 1:N evaluation run used")
    source = serializers.CharField()
    words = serializers.CharField()


class AuthorisationViewApi(APIView):
    answers = "What the authorising officer decides on: the plan, its case, the frozen watchlist."

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthorisationScreenOut"

        deployment = DeploymentOut()
        watchlist_size_by_category = serializers.DictField(child=serializers.IntegerField())
        watchlist_total = serializers.IntegerField()
        excluded_minors = serializers.IntegerField()
        activation_blockers = serializers.ListField(child=serializers.CharField())
        operating_point = OperatingPointOut()

    @extend_schema(tags=TAG, responses=OutputSerializer)
    def get(self, request, pk):
        """Everything an authorising officer is asked to authorise, as of now."""
        d = _deployment(request, pk, "authorise")
        audit_record(
            actor=request.user,
            action="deployment.view",
            obj=d,
            details={"via": "api", "screen": "authorisation"},
        )
        counts = selectors.watchlist_counts(deployment=d, at=timezone.now())
        excluded = counts.pop("excluded_minors", 0)
        return Response(
            self.OutputSerializer(
                {
                    "deployment": d,
                    "watchlist_size_by_category": counts,
                    "watchlist_total": sum(counts.values()),
                    "excluded_minors": excluded,
                    "activation_blockers": services.activation_blockers(d, paperwork_only=True),
                    "operating_point": selectors.deployment_operating_point(d),
                }
            ).data
        )


class DeploymentAuthoriseApi(APIView):
    answers = "The deployment, now authorised, with its watchlist frozen."

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DeploymentAuthoriseIn"

        reason = serializers.CharField(required=False, allow_blank=True, default="")
        # Required, as the page sends it: the plan's `updated_at` from the authorisation
        # screen; an edit since then makes the service refuse.
        seen_updated_at = serializers.DateTimeField()
        threshold = serializers.FloatField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Stricter (lower) than the planned threshold, never looser.",
        )
        policy_reason = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="Why a threshold looser than the false-alert policy allows at this "
            "watchlist size (required only then).",
        )
        short_notice_reason = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=1000,
            help_text="Why no advance notice was given: required when the start is closer "
            "than LFR_PUBLIC_NOTICE_LEAD_DAYS and advance public notice is planned.",
        )

    @extend_schema(tags=TAG, request=InputSerializer, responses=DeploymentOut)
    def post(self, request, pk):
        d = _deployment(request, pk, "authorise")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = _call(
            services.deployment_authorise, deployment=d, by=request.user, **data.validated_data
        )
        return Response(DeploymentOut(d).data)


class _DeploymentAction(ReasonedAction):
    OutputSerializer = DeploymentOut
    schema_extra = {"tags": TAG}
    action = ""

    def target(self, request, pk):
        return _deployment(request, pk, self.action)


class DeploymentRefuseApi(_DeploymentAction):
    """Refuse a submitted deployment."""

    answers = "The deployment, now refused, with the reason."

    action = "refuse"

    def act(self, request, target, reason):
        return services.deployment_refuse(deployment=target, by=request.user, reason=reason)


class DeploymentCancelApi(_DeploymentAction):
    """Cancel before it goes live."""

    answers = "The deployment, now cancelled, with the reason."

    action = "cancel"

    def act(self, request, target, reason):
        return services.deployment_cancel(deployment=target, by=request.user, reason=reason)


class DeploymentStopApi(_DeploymentAction):
    """Stop a live deployment early (command staff, signed in: an API token gets 403)."""

    answers = "The deployment, now stopped early and completed, with the reason."

    action = "stop"

    def act(self, request, target, reason):
        return services.deployment_stop(deployment=target, by=request.user, reason=reason)


class RecordOut(serializers.Serializer):
    deployment = serializers.CharField(source="deployment.reference")
    computed_at = serializers.DateTimeField()
    fields = serializers.DictField()
    review = serializers.CharField()
    reviewed_at = serializers.DateTimeField()
    signed_off_at = serializers.DateTimeField()


class RecordApi(APIView):
    answers = "The post-deployment record: the published fields, review and sign-off."

    @extend_schema(tags=TAG, responses=RecordOut)
    def get(self, request, pk):
        d = _deployment(request, pk, "view")
        if d.state != Deployment.State.COMPLETED:
            raise ValidationError({"detail": ["The record exists once the deployment completes."]})
        record = services.record_compute(deployment=d)
        audit_record(
            actor=request.user, action="deployment.view", obj=d, details={"screen": "record"}
        )
        return Response(RecordOut(record).data)


class RecordReviewApi(APIView):
    answers = "The record with command staff's review saved."

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RecordReviewIn"

        review = serializers.CharField()

    @extend_schema(tags=TAG, request=InputSerializer, responses=RecordOut)
    def post(self, request, pk):
        d = _deployment(request, pk, "review")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = _call(services.record_review, deployment=d, by=request.user, **data.validated_data)
        return Response(RecordOut(record).data)


class RecordSignoffApi(APIView):
    answers = "The record, now signed off by oversight."

    @extend_schema(tags=TAG, request=None, responses=RecordOut)
    def post(self, request, pk):
        d = _deployment(request, pk, "signoff")
        record = _call(services.record_signoff, deployment=d, by=request.user)
        return Response(RecordOut(record).data)


class CalendarApi(APIView):
    answers = "The deployments and camera bookings in the period asked for."

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CalendarWeekOut"

        week = serializers.CharField(source="label")
        used = serializers.IntegerField()
        capacity = serializers.IntegerField()
        days = serializers.SerializerMethodField()

        def get_days(self, obj) -> list[dict]:
            return [
                {
                    "date": day["date"].isoformat(),
                    "deployments": [
                        {"id": d.pk, "reference": d.reference, "state": d.state}
                        for d in day["deployments"]
                    ],
                }
                for day in obj["days"]
            ]

    @extend_schema(
        tags=TAG,
        parameters=[
            inline_serializer("WeekParam", {"week": serializers.CharField(required=False)})
        ],
        responses=OutputSerializer,
    )
    def get(self, request):
        access.require(request.user, "deployment", "list")
        given = _call(clean_iso_week, value=request.query_params.get("week"))
        year, week = given or selectors.parse_iso_week(None)
        return Response(
            self.OutputSerializer(
                selectors.calendar_week(user=request.user, year=year, week=week)
            ).data
        )


class SiteOut(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "name", "address", "latitude", "longitude"]


class CameraOut(serializers.ModelSerializer):
    """A camera; `stream_url` without user:password unless the context says `full_url`
    (administrators, who edit cameras: everyone else reads the redacted form)."""

    class Meta:
        model = Camera
        fields = ["id", "name", "site", "stream_url", "enabled", "loop"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("full_url"):
            data["stream_url"] = redact(data["stream_url"])
        return data


class SiteListApi(APIView):
    answers = "Every site, by name."

    @extend_schema(tags=TAG, responses=SiteOut(many=True))
    def get(self, request):
        access.require(request.user, "camera", "list")
        paginator = Paginated()
        page = paginator.paginate_queryset(selectors.sites_list(), request, view=self)
        return paginator.get_paginated_response(SiteOut(page, many=True).data)


class SiteCreateApi(APIView):
    answers = "The new site."
    alias_of = "POST /api/v1/deployments/sites/"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SiteCreateIn"

        name = serializers.CharField(max_length=_column(Site, "name"))
        address = serializers.CharField(required=False, allow_blank=True, default="")
        latitude = serializers.DecimalField(
            9, 6, required=False, allow_null=True, min_value=-90, max_value=90
        )
        longitude = serializers.DecimalField(
            9, 6, required=False, allow_null=True, min_value=-180, max_value=180
        )

    @extend_schema(tags=TAG, request=InputSerializer, responses={201: SiteOut})
    def post(self, request):
        access.require(request.user, "camera", "manage")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        site = _call(services.site_create, by=request.user, **data.validated_data)
        return Response(SiteOut(site).data, status=201)


class CameraListApi(APIView):
    answers = "Every camera, with its site; stream addresses for administrators only."

    @extend_schema(tags=TAG, responses=CameraOut(many=True))
    def get(self, request):
        access.require(request.user, "camera", "list")
        paginator = Paginated()
        page = paginator.paginate_queryset(selectors.cameras_list(), request, view=self)
        full = access.can(request.user, "camera", "manage")
        return paginator.get_paginated_response(
            CameraOut(page, many=True, context={"full_url": full}).data
        )


class CameraIn(serializers.Serializer):
    name = serializers.CharField(max_length=_column(Camera, "name"))
    stream_url = serializers.CharField(max_length=_column(Camera, "stream_url"))
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    enabled = serializers.BooleanField(default=True)
    loop = serializers.BooleanField(default=False)


class CameraCreateApi(APIView):
    answers = "The new camera."
    alias_of = "POST /api/v1/deployments/cameras/"
    InputSerializer = CameraIn

    @extend_schema(tags=TAG, request=CameraIn, responses={201: CameraOut})
    def post(self, request):
        access.require(request.user, "camera", "manage")
        data = CameraIn(data=request.data)
        data.is_valid(raise_exception=True)
        camera = _call(services.camera_create, by=request.user, **data.validated_data)
        return Response(CameraOut(camera, context={"full_url": True}).data, status=201)


class CameraUpdateApi(APIView):
    answers = "The camera with its changes saved."
    alias_of = "PATCH /api/v1/deployments/cameras/{id}/"
    InputSerializer = CameraIn

    @extend_schema(tags=TAG, request=CameraIn, responses=CameraOut)
    def post(self, request, pk):
        camera = Camera.objects.filter(pk=pk).first()
        if camera is None:
            raise Http404("No such camera.")
        access.require(request.user, "camera", "manage", camera)
        data = CameraIn(data=request.data)
        data.is_valid(raise_exception=True)
        camera = _call(
            services.camera_update, camera=camera, by=request.user, **data.validated_data
        )
        return Response(CameraOut(camera, context={"full_url": True}).data)


def _published_field(name: str) -> serializers.Field:
    """How the schema types one published column: counts are whole numbers, the threshold
    a number, everything else text (as published_row writes them)."""
    counts = [*selectors.COUNT_FIELDS, "Not adjudicated", *selectors.VERIFICATION_FIELDS]
    if name in counts:
        return serializers.IntegerField()
    if name == "Min Threshold Setting":
        return serializers.FloatField()
    return serializers.CharField()


class CameraTestApi(APIView):
    """Administrators: open a camera URL (typed, or a registered camera's), read one frame
    and report its size and rate, or why not; nothing is stored, the test is audited."""

    answers = "Whether the camera answered: a frame's size and a face count, or why not."

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CameraTestIn"

        stream_url = serializers.CharField(required=False, allow_blank=True, default="")
        camera = serializers.PrimaryKeyRelatedField(
            queryset=Camera.objects.all(), required=False, allow_null=True, default=None
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CameraTestOut"

        ok = serializers.BooleanField()
        url = serializers.CharField()
        width = serializers.IntegerField(required=False)
        height = serializers.IntegerField(required=False)
        fps = serializers.FloatField(required=False, allow_null=True)
        seconds = serializers.FloatField()
        error = serializers.CharField(required=False)

    @extend_schema(tags=TAG, request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        access.require(request.user, "camera", "test")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        camera = data.validated_data["camera"]
        url = data.validated_data["stream_url"] or (camera.stream_url if camera else "")
        if not url:
            raise ValidationError({"stream_url": ["Give a stream URL or a camera."]})
        try:
            result = camera_url_test(by=request.user, stream_url=url, camera=camera)
        except CameraTestThrottled as exc:
            raise Throttled(wait=60, detail=str(exc)) from None
        return Response(self.OutputSerializer(result).data)


class PublishedRecordsApi(APIView):
    """Public: every completed deployment's record: the Met's 16 field names, then ours
    (not adjudicated, status, reference, times, what the threshold means)."""

    answers = "Every published deployment record, newest first (public)."

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["transparency"],
        auth=[],
        responses=inline_serializer(
            "PublishedRecord",
            {name: _published_field(name) for name in selectors.PUBLISHED_FIELDS},
            many=True,
        ),
    )
    def get(self, request):
        return Response(selectors.published_rows())


# --- resource-style routes (issue 15): a collection answers GET and POST, an object GET or
# PATCH. The action-style routes they replace (.../create/, .../update/) stay for one
# release as aliases: same view code, marked deprecated in the schema (`alias_of`).


class DeploymentCollectionApi(DeploymentListApi, DeploymentCreateApi):
    """GET lists the deployments this user may see; POST plans one (a draft)."""

    alias_of = None
    answers = {"get": DeploymentListApi.answers, "post": DeploymentCreateApi.answers}


class SiteCollectionApi(SiteListApi, SiteCreateApi):
    """GET lists the sites; POST adds one (administrators)."""

    alias_of = None
    answers = {"get": SiteListApi.answers, "post": SiteCreateApi.answers}


class CameraCollectionApi(CameraListApi, CameraCreateApi):
    """GET lists the cameras; POST registers one (administrators)."""

    alias_of = None
    answers = {"get": CameraListApi.answers, "post": CameraCreateApi.answers}


class CameraResourceApi(APIView):
    """PATCH changes the camera fields given (administrators); the rest as they were."""

    answers = "The camera with the given fields changed; the rest as they were."

    @extend_schema(tags=TAG, request=CameraIn, responses=CameraOut)
    def patch(self, request, pk):
        camera = Camera.objects.filter(pk=pk).first()
        if camera is None:
            raise Http404("No such camera.")
        access.require(request.user, "camera", "manage", camera)
        data = CameraIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {f: getattr(camera, f) for f in ("name", "stream_url", "site", "enabled", "loop")}
        fields.update(data.validated_data)
        camera = _call(services.camera_update, camera=camera, by=request.user, **fields)
        return Response(CameraOut(camera, context={"full_url": True}).data)


class IndependentAuthorisationApi(APIView):
    """Record the independent authority's decision on a deployment (EU AI Act Art. 5(3)).
    A refusal of a live urgent start stops it and deletes all it collected."""

    class InputSerializer(serializers.Serializer):
        authority = serializers.CharField(max_length=200)
        reference = serializers.CharField(max_length=120)
        decided_at = serializers.DateTimeField()
        outcome = serializers.ChoiceField(choices=IndependentAuthorisation.Outcome.choices)
        scope_window = serializers.CharField(max_length=1000, required=False, allow_blank=True)
        scope_place = serializers.CharField(max_length=1000, required=False, allow_blank=True)
        scope_targets = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        conditions = serializers.CharField(max_length=4000, required=False, allow_blank=True)

        class Meta:
            ref_name = "IndependentAuthorisationIn"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        deployment = serializers.CharField(source="deployment.reference")
        deployment_state = serializers.CharField(source="deployment.state")
        authority = serializers.CharField()
        reference = serializers.CharField()
        decided_at = serializers.DateTimeField()
        outcome = serializers.CharField()
        scope_window = serializers.CharField()
        scope_place = serializers.CharField()
        scope_targets = serializers.CharField()
        conditions = serializers.CharField()
        recorded_by = serializers.CharField(source="recorded_by.username")
        recorded_at = serializers.DateTimeField()

        class Meta:
            ref_name = "IndependentAuthorisationOut"

    @extend_schema(
        tags=TAG,
        request=InputSerializer,
        responses={
            201: OpenApiResponse(OutputSerializer, description="The decision, as recorded."),
            400: OpenApiResponse(description="Refused by a rule; the message says which."),
        },
    )
    def post(self, request, pk):
        target = _deployment(request, pk, "record_independent")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = _call(
            services.independent_authorisation_record,
            deployment=target,
            by=request.user,
            **data.validated_data,
        )
        decision.deployment.refresh_from_db()
        return Response(self.OutputSerializer(decision).data, status=201)
