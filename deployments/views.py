"""Deployment pages. Thin: access via core.access, rules in services, reads in selectors."""

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import access
from core.exports import csv_cell
from core.forms import ReasonForm
from core.services import audit_record
from deployments import selectors, selectors_annual, services
from deployments import selectors_authority as authority
from deployments.forms import (
    CameraForm,
    DecisionForm,
    DeploymentForm,
    NoticeSentForm,
    PublicNoticeForm,
    ReviewForm,
    SiteForm,
    WalkthroughForm,
    clean_iso_week,
)
from deployments.models import Camera, Deployment
from deployments.services.camera_test import CameraTestThrottled, camera_url_test
from recognition.engine.sources import redact


def _get(request, pk: int, action: str) -> Deployment:
    deployment = selectors.deployment_get(pk)
    if deployment is None:
        raise Http404("No such deployment.")
    access.require(request.user, "deployment", action, deployment)
    return deployment


def _fail(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def calendar(request):
    access.require(request.user, "deployment", "list")
    try:
        given = clean_iso_week(request.GET.get("week"))
    except ValidationError as exc:
        _fail(request, exc)  # shown above this week's calendar
        given = None
    year, week = given or selectors.parse_iso_week(None)
    context = selectors.calendar_week(user=request.user, year=year, week=week)
    context["can_create"] = access.can(request.user, "deployment", "create")
    status = 400 if request.GET.get("week") and given is None else 200
    return render(request, "deployments/calendar.html", context, status=status)


@login_required
def deployment_list(request):
    access.require(request.user, "deployment", "list")
    qs = selectors.deployments_visible_to(request.user)
    state = request.GET.get("state", "")
    if state in Deployment.State.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "deployments/list.html",
        {
            "page": page,
            "state": state,
            "states": Deployment.State.choices,
            "attention": selectors.deployments_needing_attention(request.user)[:20],
            "can_create": access.can(request.user, "deployment", "create"),
        },
    )


@login_required
def deployment_create(request):
    access.require(request.user, "deployment", "create")
    # "Copy as a new plan" (?copy=) and "revise and resubmit" a refused one (?revise=):
    # the form starts from that plan, so mending two fields is not retyping fifteen.
    source_pk = request.GET.get("revise") or request.GET.get("copy") or ""
    source = _get(request, int(source_pk), "view") if source_pk.isdigit() else None
    revises = source if source is not None and "revise" in request.GET else None
    initial = {}
    if source is not None:
        initial = {f: getattr(source, f) for f in services.PLAN_FIELDS}
        initial.update(cameras=list(source.cameras.all()), officers=list(source.officers.all()))
    form = DeploymentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            deployment = services.deployment_create(
                by=request.user,
                cameras=form.cleaned_data["cameras"],
                officers=form.cleaned_data["officers"],
                revises=revises,
                **form.plan(),
            )
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, f"Deployment {deployment.reference} saved as a draft.")
            return redirect("deployments:detail", pk=deployment.pk)
    return render(
        request,
        "deployments/form.html",
        {"form": form, "deployment": None, "source": source, "revises": revises},
    )


@login_required
def deployment_edit(request, pk):
    deployment = _get(request, pk, "edit")
    initial = {
        "cameras": deployment.cameras.all(),
        "officers": deployment.officers.all(),
    }
    form = DeploymentForm(request.POST or None, instance=deployment, initial=initial)
    if request.method == "POST" and form.is_valid():
        was = deployment.state
        try:
            deployment = services.deployment_update(
                deployment=deployment,
                by=request.user,
                cameras=form.cleaned_data["cameras"],
                officers=form.cleaned_data["officers"],
                **form.plan(),
            )
        except ValidationError as exc:
            _fail(request, exc)
        else:
            if was == Deployment.State.AUTHORISED:
                messages.warning(
                    request,
                    "Saved. The edit withdrew its authorisation: it must be authorised again.",
                )
            else:
                messages.success(request, "Saved.")
            return redirect("deployments:detail", pk=deployment.pk)
    return render(request, "deployments/form.html", {"form": form, "deployment": deployment})


@login_required
def deployment_detail(request, pk):
    deployment = _get(request, pk, "view")
    audit_record(actor=request.user, action="deployment.view", obj=deployment)
    user = request.user
    versions = selectors.deployment_versions(deployment)
    return render(
        request,
        "deployments/detail.html",
        {
            "d": deployment,
            "cameras": deployment.cameras.select_related("site"),
            "officers": deployment.officers.all(),
            "watchlist": selectors.watchlist_of(deployment),
            "operating_point": selectors.deployment_operating_point(deployment),
            "versions": versions,
            "revision": next((v for v in versions if v.revises_id == deployment.pk), None),
            "blockers": [
                *services.activation_blockers(deployment),
                *authority.independent_blockers(deployment),
                *authority.assessment_blockers(),
            ],
            "reason_form": ReasonForm(),
            "may": {
                a: access.can(user, "deployment", a, deployment)
                for a in (
                    "create",
                    "edit",
                    "submit",
                    "authorise",
                    "cancel",
                    "stop",
                    "review",
                    "signoff",
                    "notice",
                    "withhold_notice",
                    "walkthrough",
                )
            },
            **_blue_list_context(deployment),
        },
    )


def _blue_list_context(deployment: Deployment, form=None) -> dict:
    if not deployment.include_test_subjects:
        return {}
    subjects = selectors.blue_list_frozen(deployment)
    blue = selectors.blue_list(deployment)
    return {
        "walkthroughs": selectors.walkthroughs(deployment),
        "blue_list": selectors.format_tpr(blue),
        "recall_by_group": blue.get("by_group", []),
        "walk_form": form or WalkthroughForm(deployment=deployment, subjects=subjects),
    }


@login_required
@require_POST
def deployment_walkthrough(request, pk):
    deployment = _get(request, pk, "walkthrough")
    form = WalkthroughForm(
        request.POST, deployment=deployment, subjects=selectors.blue_list_frozen(deployment)
    )
    if form.is_valid():
        try:
            services.walkthrough_record(deployment=deployment, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, "Walk-through recorded.")
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label or field}: {' '.join(errors)}")
    return redirect("deployments:detail", pk=pk)


@login_required
@require_POST
def deployment_submit(request, pk):
    deployment = _get(request, pk, "submit")
    try:
        services.deployment_submit(deployment=deployment, by=request.user)
    except ValidationError as exc:
        _fail(request, exc)
    else:
        messages.success(request, "Submitted for authorisation.")
        gate = services.activation_blockers(deployment, paperwork_only=True)
        if gate:
            messages.warning(
                request, f"It will not go live while there is {'; '.join(gate)}: edit the plan."
            )
    return redirect("deployments:detail", pk=pk)


@login_required
def deployment_authorise(request, pk):
    deployment = _get(request, pk, "authorise")
    form = DecisionForm(request.POST or None, initial={"threshold": deployment.threshold})
    if request.method == "POST" and form.is_valid():
        try:
            if "refuse" in request.POST:
                services.deployment_refuse(
                    deployment=deployment, by=request.user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, "Deployment refused.")
            else:
                services.deployment_authorise(
                    deployment=deployment,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    seen_updated_at=form.cleaned_data["seen_updated_at"],
                    threshold=form.cleaned_data["threshold"],
                    policy_reason=form.cleaned_data["policy_reason"],
                    short_notice_reason=form.cleaned_data["short_notice_reason"],
                )
                messages.success(request, "Deployment authorised; its watchlist is frozen.")
        except ValidationError as exc:
            _fail(request, exc)
        else:
            return redirect("deployments:detail", pk=pk)
    now = timezone.now()
    audit_record(
        actor=request.user,
        action="deployment.view",
        obj=deployment,
        details={"screen": "authorisation"},
    )
    counts = selectors.watchlist_counts(deployment=deployment, at=now)
    excluded = counts.pop("excluded_minors", 0)
    short = selectors.notice_shortfall(deployment, at=now)
    return render(
        request,
        "deployments/authorise.html",
        {
            "d": deployment,
            "cameras": deployment.cameras.all(),
            "officers": deployment.officers.all(),
            "counts": counts,
            "total": sum(counts.values()),
            "excluded_minors": excluded,
            "stale_images": selectors.watchlist_stale_images(deployment=deployment, at=now),
            "test_subjects": selectors.blue_list_subject_count(deployment=deployment, at=now),
            "blockers": services.activation_blockers(deployment, paperwork_only=True),
            "operating_point": selectors.deployment_operating_point(deployment),
            "short_notice": short,
            "short_notice_words": selectors.duration_words(short) if short is not None else "",
            "lead_days": settings.LFR_PUBLIC_NOTICE_LEAD_DAYS,
            "form": form,
            "capacity": settings.LFR_WEEKLY_CAPACITY,
            "capacity_used": selectors.week_capacity_used(
                year=timezone.localtime(deployment.starts_at).isocalendar()[0],
                week=timezone.localtime(deployment.starts_at).isocalendar()[1],
            ),
        },
    )


def _reasoned(request, pk, action, service, done: str):
    deployment = _get(request, pk, action)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason.")
        return redirect("deployments:detail", pk=pk)
    try:
        service(deployment=deployment, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        _fail(request, exc)
    else:
        messages.success(request, done)
    return redirect("deployments:detail", pk=pk)


@login_required
@require_POST
def deployment_cancel(request, pk):
    return _reasoned(request, pk, "cancel", services.deployment_cancel, "Deployment cancelled.")


@login_required
@require_POST
def deployment_stop(request, pk):
    return _reasoned(request, pk, "stop", services.deployment_stop, "Deployment stopped.")


@login_required
def deployment_record(request, pk):
    deployment = _get(request, pk, "view")
    if deployment.state != Deployment.State.COMPLETED:
        messages.info(request, "The record exists once the deployment has completed.")
        return redirect("deployments:detail", pk=pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST":
        access.require(request.user, "deployment", "review", deployment)
        if form.is_valid():
            try:
                services.record_review(
                    deployment=deployment, by=request.user, review=form.cleaned_data["review"]
                )
            except ValidationError as exc:
                _fail(request, exc)
            else:
                messages.success(request, "Review saved.")
                return redirect("deployments:record", pk=pk)
    record = services.record_compute(deployment=deployment)
    audit_record(
        actor=request.user, action="deployment.view", obj=deployment, details={"screen": "record"}
    )
    if not form.is_bound:
        form = ReviewForm(initial={"review": record.review})
    return render(
        request,
        "deployments/record.html",
        {
            "d": deployment,
            "record": record,
            # As published, in the Met's order: jsonb (PostgreSQL) does not keep key order.
            "fields": list(selectors.published_row(record).items()),
            "unadjudicated": selectors.alert_figures(deployment)["unadjudicated"],
            "form": form,
            "may_review": access.can(request.user, "deployment", "review", deployment),
            "may_signoff": access.can(request.user, "deployment", "signoff", deployment),
        },
    )


@login_required
@require_POST
def deployment_signoff(request, pk):
    deployment = _get(request, pk, "signoff")
    try:
        services.record_signoff(deployment=deployment, by=request.user)
    except ValidationError as exc:
        _fail(request, exc)
    else:
        messages.success(request, "Record signed off.")
    return redirect("deployments:record", pk=pk)


# --- the notice of each use (Art. 5(4)) and advance public notice ----------------------


def _submitted(request, form, act, done: str) -> bool:
    """Run `act(cleaned_data)` for a valid form; True (and `done` shown) if it succeeded,
    else the form's or the rule's errors are shown."""
    if not form.is_valid():
        return False
    try:
        act(form.cleaned_data)
    except ValidationError as exc:
        _fail(request, exc)
        return False
    messages.success(request, done)
    return True


def _notice_context(request, deployment, form=None) -> dict:
    return {
        "d": deployment,
        "notice": selectors.use_notice(deployment),
        "sent": selectors.notices_sent(deployment),
        "authorities": [(n, k.replace("_", " ")) for k, n in settings.LFR_NOTICE_AUTHORITIES],
        "form": form or NoticeSentForm(),
        "may_notify": access.can(request.user, "deployment", "notify", deployment),
        "notifiable": deployment.state in services.NOTIFIABLE,
    }


@login_required
def use_notice(request, pk):
    """The printable notice of this use for the authorities, and who it was sent to."""
    deployment = _get(request, pk, "notice")
    audit_record(
        actor=request.user, action="deployment.view", obj=deployment, details={"screen": "notice"}
    )
    return render(request, "deployments/notice.html", _notice_context(request, deployment))


@login_required
def use_notice_json(request, pk):
    deployment = _get(request, pk, "notice")
    audit_record(
        actor=request.user,
        action="deployment.view",
        obj=deployment,
        details={"screen": "notice.json"},
    )
    body = {**selectors.use_notice(deployment), "sent": selectors.notices_sent(deployment)}
    response = JsonResponse(body, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'inline; filename="notice-{deployment.reference}.json"'
    return response


@login_required
@require_POST
def use_notice_sent(request, pk):
    deployment = _get(request, pk, "notify")
    form = NoticeSentForm(request.POST)

    def send(data):
        services.use_notice_send(
            deployment=deployment,
            by=request.user,
            authority=data["authority"],
            reference=data["reference"],
        )

    if _submitted(request, form, send, f"Recorded as sent to {form.data.get('authority')}."):
        return redirect("deployments:notice", pk=pk)
    context = _notice_context(request, deployment, form)
    return render(request, "deployments/notice.html", context, status=400)


@login_required
def public_notice(request, pk):
    """The authorising officer gives or withholds advance public notice, with a reason."""
    deployment = _get(request, pk, "withhold_notice")
    initial = {"publish": "yes" if deployment.public_notice else "no"}
    form = PublicNoticeForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":

        def decide(data):
            services.deployment_notice_decide(
                deployment=deployment,
                by=request.user,
                publish=data["publish"],
                reason=data["reason"],
            )

        if _submitted(request, form, decide, "Advance public notice decided."):
            return redirect("deployments:detail", pk=pk)
        status = 400
    published_from = selectors.notice_published_from(deployment)
    return render(
        request,
        "deployments/public_notice.html",
        {"d": deployment, "form": form, "published_from": published_from},
        status=status,
    )


# --- sites and cameras (administrators) ------------------------------------------------


@login_required
def cameras(request):
    access.require(request.user, "camera", "list")
    may_manage = access.can(request.user, "camera", "manage")
    site_form, camera_form = SiteForm(prefix="site"), CameraForm(prefix="camera")
    refused = False
    if request.method == "POST":
        access.require(request.user, "camera", "manage")
        try:
            if "add_site" in request.POST:
                site_form = SiteForm(request.POST, prefix="site")
                if site_form.is_valid():
                    services.site_create(by=request.user, **site_form.cleaned_data)
                    messages.success(request, "Site added.")
                    return redirect("deployments:cameras")
            else:
                camera_form = CameraForm(request.POST, prefix="camera")
                if camera_form.is_valid():
                    services.camera_create(by=request.user, **camera_form.cleaned_data)
                    messages.success(request, "Camera added.")
                    return redirect("deployments:cameras")
        except ValidationError as exc:
            _fail(request, exc)
        refused = True  # not saved: say so in the status too (400), not only on the page
    cameras = list(selectors.cameras_list())
    for camera in cameras:
        # Credentials in the URL are for the workers and the administrators who edit it.
        camera.shown_url = camera.stream_url if may_manage else redact(camera.stream_url)
    return render(
        request,
        "deployments/cameras.html",
        {
            "cameras": cameras,
            "sites": selectors.sites_list(),
            "site_form": site_form,
            "camera_form": camera_form,
            "may_manage": may_manage,
            "may_test": access.can(request.user, "camera", "test"),
        },
        status=400 if refused else 200,
    )


@login_required
def camera_edit(request, pk):
    camera = Camera.objects.filter(pk=pk).first()
    if camera is None:
        raise Http404("No such camera.")
    access.require(request.user, "camera", "manage", camera)
    form = CameraForm(request.POST or None, instance=camera)
    if request.method == "POST" and form.is_valid():
        try:
            services.camera_update(camera=camera, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, "Camera saved.")
            return redirect("deployments:cameras")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "deployments/camera_form.html",
        {"form": form, "camera": camera, "may_test": access.can(request.user, "camera", "test")},
        status=status,
    )


@login_required
@require_POST
def camera_test(request):
    """The cameras page's and camera form's "Test" button: JSON, nothing stored."""
    access.require(request.user, "camera", "test")
    camera = None
    if request.POST.get("camera"):
        pk = request.POST["camera"]
        camera = Camera.objects.filter(pk=pk).first() if pk.isdigit() else None
        if camera is None:
            raise Http404("No such camera.")
    url = (request.POST.get("stream_url") or "").strip() or (camera.stream_url if camera else "")
    if not url:
        return JsonResponse({"ok": False, "error": "Give a stream URL to test."}, status=400)
    try:
        return JsonResponse(camera_url_test(by=request.user, stream_url=url, camera=camera))
    except CameraTestThrottled as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=429)


# --- transparency (public, no login, nothing personal) ---------------------------------


YEAR_FIELDS = [
    "Deployments",
    *selectors.COUNT_FIELDS,
    "Not adjudicated",
    "False Alert Rate",
    "Not adjudicated share",
    *selectors.VERIFICATION_FIELDS,
    "Provisional records",
]
# Shown under a heading on the page, so the Met's names can stay exactly as they are.
FIELD_NOTES = {
    "Min Threshold Setting": f"our number: {selectors.THRESHOLD_MEANING}",
    "False Alert Rate": "false alerts ÷ adjudicated alerts",
    "Not adjudicated": "alerts no officer has decided: neither true nor false",
    "Not adjudicated share": "of all alerts",
    "End Time": "when it actually stopped",
    "Expected False Alert Rate": "what the authorising officer was told: the 95 % bound "
    "on passers-by raising a false alert at the threshold and watchlist size authorised",
    "Verified by Two Officers": "true matches two officers separately verified",
    "Single-verified": "true matches verified by one officer only",
    "Verification Disagreed": "two officers disagreed: not verified, no action",
}


def transparency(request):
    years = selectors.yearly_summary()
    records = [
        {
            "title": f"{row['Deployment Reference']} · {row['Deployment Location']}",
            "reference": row["Deployment Reference"],
            "status": row["Record Status"],
            "fields": [(k, FIELD_NOTES.get(k, ""), v) for k, v in row.items()],
        }
        for row in selectors.published_rows()
    ]
    return render(
        request,
        "deployments/transparency.html",
        {
            "records": records,
            "met_count": len(selectors.MET_FIELDS),
            "upcoming": selectors.upcoming_notices(),
            # One column per year, one row per figure: it stays narrow however many
            # figures we publish.
            "years": [y["Year"] for y in years],
            "year_rows": [(f, FIELD_NOTES.get(f, ""), [y[f] for y in years]) for f in YEAR_FIELDS],
        },
    )


def transparency_csv(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="lfr-deployments.csv"'
    writer = csv.DictWriter(response, fieldnames=selectors.PUBLISHED_FIELDS)
    writer.writeheader()
    # Site names are typed by administrators and the file is opened in spreadsheets.
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in selectors.published_rows())
    return response


def transparency_notices(request):
    """Advance notices: upcoming ones, and past ones the published records link back to."""
    return render(
        request,
        "deployments/notices.html",
        {
            "upcoming": selectors.upcoming_notices(),
            "past": selectors.past_notices(),
            "lead_days": settings.LFR_PUBLIC_NOTICE_LEAD_DAYS,
        },
    )


def _annual(year: int) -> dict:
    if not 2000 <= year <= 2999:
        raise Http404("No such year.")
    return selectors_annual.annual_report(year)


def annual_report(request, year):
    report = _annual(year)
    return render(
        request,
        "deployments/annual.html",
        {
            "r": report,
            "totals": [(label, report[k]) for k, label in selectors_annual.ANNUAL_TOTALS],
        },
    )


def annual_report_json(request, year):
    return JsonResponse(_annual(year), json_dumps_params={"indent": 2, "ensure_ascii": False})


def annual_report_csv(request, year):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="lfr-annual-{year}.csv"'
    writer = csv.DictWriter(response, fieldnames=selectors_annual.ANNUAL_CSV_COLUMNS)
    writer.writeheader()
    rows = selectors_annual.annual_csv_rows(_annual(year))
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return response
