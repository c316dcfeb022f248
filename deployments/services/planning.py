"""Planning a deployment: the plan's rules, creating, editing and submitting it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import access
from core.services import audit_record
from core.templatetags.lfr_time import window
from deployments import selectors
from deployments.models import Camera, Deployment, UseCase
from deployments.services import notices
from deployments.services.snapshot import _snapshot_discard
from deployments.services.states import EDITABLE, State, _transition
from watchlists.models import Category

# The plan's fields, in the order a planner fills them in: first what it is for and where
# (the site decides which cameras can be chosen), then the terms of the deployment.
PLAN_PURPOSE_AND_SITE = ("use_case", "site")
PLAN_TERMS = (
    "starts_at",
    "ends_at",
    "necessity",
    "proportionality",
    "location_rationale",
    "watchlist_categories",
    "max_watchlist_size",
    "include_minors",
    "minors_reason",
    "include_test_subjects",
    "threshold",
    "dpia_reference",
    "policy_reference",
    "equality_reference",
    "public_notice",
    "no_notice_reason",
    "urgent",
    "verification",
)
PLAN_FIELDS = (*PLAN_PURPOSE_AND_SITE, *PLAN_TERMS)

# Dates outside these years are typos (0001, 9999), and they overflow week arithmetic.
PLAUSIBLE_YEARS = range(2000, 2100)
# Far beyond any force's watchlist (the Met's run to ~17,000) and within the column.
MAX_WATCHLIST_SIZE = 1_000_000
# A dlib distance below this matches nothing but the very same photo (a re-saved copy
# sits ~0.08 from its original): such a threshold would make a deployment blind.
MIN_THRESHOLD = 0.2


def _check_plan(*, plan: dict, cameras) -> None:
    """Rules that hold for any deployment at any stage; all failures reported at once."""
    errors = []
    starts_at, ends_at = plan.get("starts_at"), plan.get("ends_at")
    if plan.get("use_case") not in UseCase.values:
        errors.append(f"The use case must be one of: {', '.join(UseCase.values)}.")
    if not (starts_at and ends_at):
        errors.append("A deployment needs a fixed start and end.")
    elif not all(t.year in PLAUSIBLE_YEARS for t in (starts_at, ends_at)):
        errors.append(
            f"The start and end must fall in the years {PLAUSIBLE_YEARS[0]} to "
            f"{PLAUSIBLE_YEARS[-1]}."
        )
    elif starts_at >= ends_at:
        errors.append("The start must be before the end.")
    elif ends_at - starts_at > timedelta(hours=settings.LFR_MAX_DEPLOYMENT_HOURS):
        errors.append(
            f"A deployment may last at most {settings.LFR_MAX_DEPLOYMENT_HOURS} hours; "
            f"this one lasts {(ends_at - starts_at).total_seconds() / 3600:.1f}."
        )
    categories = plan.get("watchlist_categories") or []
    bad = [c for c in categories if c not in Category.values]
    if not categories:
        errors.append("Choose at least one watchlist category.")
    if bad:
        errors.append(f"Unknown watchlist categories: {', '.join(map(str, bad))}.")
    if len(set(categories)) != len(categories):
        errors.append("A watchlist category is listed twice.")
    if not plan.get("max_watchlist_size") or plan["max_watchlist_size"] < 1:
        errors.append("The maximum watchlist size must be at least 1.")
    elif plan["max_watchlist_size"] > MAX_WATCHLIST_SIZE:
        errors.append(f"The maximum watchlist size may be at most {MAX_WATCHLIST_SIZE:,}.")
    threshold = plan.get("threshold")
    if threshold is None or not threshold >= MIN_THRESHOLD:  # also NaN
        errors.append(
            f"The match threshold must be a face distance of at least {MIN_THRESHOLD} "
            "(lower matches only the very same photo)."
        )
    elif threshold > settings.LFR_THRESHOLD_MAX:
        errors.append(
            f"The match threshold {threshold} is looser than the permitted maximum "
            f"distance {settings.LFR_THRESHOLD_MAX} (lower is stricter): choose "
            f"{settings.LFR_THRESHOLD_MAX} or less."
        )
    for field, label in (
        ("necessity", "necessity"),
        ("proportionality", "proportionality"),
        ("location_rationale", "why this location"),
    ):
        if not (plan.get(field) or "").strip():
            errors.append(f"State the {label}.")
    if plan.get("include_minors") and not (plan.get("minors_reason") or "").strip():
        errors.append("Including under-18s needs a recorded reason.")
    if not plan.get("public_notice") and not (plan.get("no_notice_reason") or "").strip():
        errors.append("Deploying without advance public notice needs a recorded reason.")
    if plan.get("urgent") and not settings.LFR_URGENT_MODE:
        errors.append("Urgent starts are not enabled here (LFR_URGENT_MODE).")
    if plan.get("verification") not in Deployment.Verification.values:
        errors.append("Alert verification must be one of: one, two.")
    site = plan.get("site")
    cameras = list(cameras)
    if not cameras:
        errors.append("Choose at least one camera.")
    for camera in cameras:
        if site is not None and camera.site_id != site.pk:
            errors.append(f"Camera {camera.name} is not at {site.name}.")
        if not camera.enabled:
            errors.append(f"Camera {camera.name} is disabled.")
    if errors:
        raise ValidationError(errors)


def verification_default() -> str:
    """What a new plan asks for unless it says: two where the force requires it."""
    two = settings.LFR_REQUIRE_TWO_PERSON_VERIFICATION
    return Deployment.Verification.TWO if two else Deployment.Verification.ONE


def _check_verification(plan: dict) -> None:
    """A force that requires two-person verification refuses a plan written for one. Only
    the value being written is checked: a deployment planned before the rule keeps its own
    until someone edits that choice."""
    if (
        plan.get("verification") == Deployment.Verification.ONE
        and settings.LFR_REQUIRE_TWO_PERSON_VERIFICATION
    ):
        raise ValidationError(
            "This force requires every alert to be verified by two officers "
            "(LFR_REQUIRE_TWO_PERSON_VERIFICATION): choose two-person verification."
        )


def _check_future(*, plan: dict, now: datetime) -> None:
    """A plan must still have time to run: a window wholly past is refused when saved,
    not only at submission."""
    ends_at = plan.get("ends_at")
    if ends_at and ends_at <= now:
        raise ValidationError(
            "This window has already ended: plan a deployment for a time still to come."
        )


def _check_commitments(*, deployment: Deployment, now: datetime) -> None:
    """Submission-time rules: end not past, no camera clash, weekly capacity.

    Locks the cameras and the week's deployments first so two submissions racing for the
    same camera or the last slot of a week are serialised (PostgreSQL; SQLite serialises
    writers anyway).
    """
    if deployment.ends_at <= now:
        raise ValidationError("This deployment's end is in the past: change its times.")
    camera_ids = sorted(deployment.cameras.values_list("pk", flat=True))
    list(Camera.objects.select_for_update().filter(pk__in=camera_ids).order_by("pk"))
    # A deployment that ended (stopped early) holds its cameras only until its actual end.
    clash = (
        selectors.camera_bookings(
            camera_ids=camera_ids,
            starts_at=deployment.starts_at,
            ends_at=deployment.ends_at,
            exclude=deployment.pk,
        )
        .order_by("starts_at")
        .first()
    )
    if clash is not None:
        names = ", ".join(sorted(c.name for c in clash.cameras.all() if c.pk in set(camera_ids)))
        raise ValidationError(
            f"Camera {names} is already in deployment {clash.reference} "
            f"({window(clash.starts_at, clash.actual_end)}), which overlaps."
        )
    year, week, _ = timezone.localtime(deployment.starts_at).isocalendar()
    start, end = selectors.iso_week_bounds(year, week)
    list(
        Deployment.objects.select_for_update()
        .filter(starts_at__gte=start, starts_at__lt=end)
        .values_list("pk", flat=True)
    )
    used = selectors.week_capacity_used(year=year, week=week, exclude=deployment.pk)
    if used >= settings.LFR_WEEKLY_CAPACITY:
        raise ValidationError(
            f"ISO week {year}-W{week:02d} is full: {used} of "
            f"{settings.LFR_WEEKLY_CAPACITY} deployments are already planned."
        )


def _next_reference(now: datetime) -> str:
    prefix = f"DEP-{now:%Y%m%d}-"
    count = Deployment.objects.filter(reference__startswith=prefix).count()
    while True:
        count += 1
        ref = f"{prefix}{count:03d}"
        if not Deployment.objects.filter(reference=ref).exists():
            return ref


def _plan_summary(d: Deployment) -> dict:
    return {
        "reference": d.reference,
        "use_case": d.use_case,
        "site_id": d.site_id,
        "camera_ids": sorted(d.cameras.values_list("pk", flat=True)),
        "starts_at": d.starts_at.isoformat(),
        "ends_at": d.ends_at.isoformat(),
        "watchlist_categories": d.watchlist_categories,
        "max_watchlist_size": d.max_watchlist_size,
        "include_minors": d.include_minors,
        "include_test_subjects": d.include_test_subjects,
        "threshold": d.threshold,
        "public_notice": d.public_notice,
        "urgent": d.urgent,
        "verification": d.verification,
        "independent_authorisation_required": d.independent_authorisation_required,
    }


@transaction.atomic
def deployment_create(*, by, cameras, officers=(), revises=None, **plan) -> Deployment:
    """A new draft. `revises`: the refused plan this one mends (once); the refusal stays on
    that deployment, and this one links back to it."""
    access.require(by, "deployment", "create")
    if revises is not None:
        revises = Deployment.objects.select_for_update().get(pk=revises.pk)
        access.require(by, "deployment", "view", revises)
        if revises.state != State.REFUSED:
            raise ValidationError("Only a refused plan is revised: copy it as a new plan instead.")
        if Deployment.objects.filter(revises=revises).exists():
            raise ValidationError(
                f"{revises.reference} was already revised as "
                f"{Deployment.objects.get(revises=revises).reference}."
            )
    plan = {k: plan.get(k) for k in PLAN_FIELDS if k in plan}
    plan.setdefault("threshold", settings.LFR_THRESHOLD_DEFAULT)
    plan.setdefault("public_notice", True)
    plan.setdefault("verification", verification_default())
    _check_verification(plan)
    _check_plan(plan=plan, cameras=cameras)
    now = timezone.now()
    _check_future(plan=plan, now=now)
    deployment = Deployment.objects.create(
        reference=_next_reference(now),
        requested_by=by,
        state=State.DRAFT,
        independent_authorisation_required=settings.LFR_INDEPENDENT_AUTHORISATION == "always",
        revises=revises,
        **plan,
    )
    deployment.cameras.set(cameras)
    deployment.officers.set(officers)
    details = _plan_summary(deployment)
    if revises is not None:
        details["revises"] = revises.reference
    audit_record(actor=by, action="deployment.create", obj=deployment, details=details)
    notices.tell_assigned(deployment, officers)
    return deployment


@transaction.atomic
def deployment_update(*, deployment: Deployment, by, cameras, officers=None, **plan):
    """Edit the plan. An authorised deployment goes back to `submitted` and loses its
    authorisation and frozen watchlist: what was authorised is no longer what will run."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.state not in EDITABLE:
        raise ValidationError(
            f"A {State(deployment.state).label.lower()} deployment cannot be edited."
        )
    merged = {k: getattr(deployment, k) for k in PLAN_FIELDS}
    merged.update({k: v for k, v in plan.items() if k in PLAN_FIELDS})
    if plan.get("verification") != deployment.verification:
        _check_verification(plan)
    _check_plan(plan=merged, cameras=cameras)
    _check_future(plan=merged, now=timezone.now())
    before = _plan_summary(deployment)
    for key, value in merged.items():
        setattr(deployment, key, value)
    deployment.save()
    deployment.cameras.set(cameras)
    if officers is not None:
        before_officers = set(deployment.officers.values_list("pk", flat=True))
        deployment.officers.set(officers)
        added = [o for o in officers if getattr(o, "pk", o) not in before_officers]
    after = _plan_summary(deployment)
    changed = sorted(k for k in after if after[k] != before[k])
    was = deployment.state
    if was in (State.SUBMITTED, State.AUTHORISED):
        _check_commitments(deployment=deployment, now=timezone.now())
    if was == State.AUTHORISED:
        _transition(deployment, State.SUBMITTED, authorised_by=None, authorised_at=None)
        _snapshot_discard(deployment=deployment, by=by, why="edited after authorisation")
    audit_record(
        actor=by,
        action="deployment.update",
        obj=deployment,
        details={"changed": changed, "from_state": was, "to_state": deployment.state},
    )
    if officers is not None and added:
        notices.tell_assigned(deployment, added)
    return deployment


@transaction.atomic
def deployment_submit(*, deployment: Deployment, by) -> Deployment:
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.state != State.DRAFT:
        raise ValidationError("Only a draft can be submitted for authorisation.")
    _check_plan(
        plan={k: getattr(deployment, k) for k in PLAN_FIELDS}, cameras=deployment.cameras.all()
    )
    now = timezone.now()
    _check_commitments(deployment=deployment, now=now)
    frm = _transition(deployment, State.SUBMITTED, now=now, submitted_at=now)
    audit_record(
        actor=by,
        action="deployment.submit",
        obj=deployment,
        details={"from_state": frm, "to_state": deployment.state},
    )
    notices.tell_submitted(deployment)
    return deployment
