"""Oversight pages: reports, the audit explorer, retention and legal holds.

Thin: each view asks core.access, calls a selector or service, and renders. Oversight
reads everything and changes nothing; the only writes reachable from here are legal
holds, which only command staff and administrators may place (core.access `alert`).
"""

import csv
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core import access
from core.exports import csv_cell
from core.forms import ReasonForm
from core.purpose import purpose_from
from core.services import audit_record
from oversight import selectors, services, svg
from oversight.forms import AuditFilterForm, PeriodForm, ReportFilterForm
from recognition.models import Alert
from recognition.services.holds import alert_hold_place, alert_hold_release


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, columns: list[str], rows) -> StreamingHttpResponse:
    """Stream rows (dicts) as CSV; the page's numbers, exactly, for anyone to re-check."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(columns)
        for row in rows:
            yield writer.writerow([csv_cell(row.get(c)) for c in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


# --- reports ------------------------------------------------------------------------------


@login_required
@require_GET
def reports(request):
    access.require(request.user, "report", "list")
    user = request.user
    pages = [
        ("Effectiveness", "oversight:effectiveness", access.can(user, "report", "view")),
        ("Accuracy", "oversight:accuracy", access.can(user, "evaluation", "view")),
        ("Equality monitoring", "oversight:equality", access.can(user, "report", "view")),
        ("Retention and legal holds", "oversight:retention", access.can(user, "alert", "list")),
        ("Audit explorer", "oversight:audit", access.can(user, "audit", "list")),
        ("Subject history", "oversight:subjects", access.can(user, "subject", "view")),
    ]
    tiles = [{"label": label, "url": reverse(name)} for label, name, ok in pages if ok]
    return render(request, "oversight/reports.html", {"tiles": tiles})


def _decision_series(rows):
    return [
        ("true alerts", [r["true_alerts"] for r in rows], svg.COLOURS["true"]),
        ("false alerts", [r["false_alerts"] for r in rows], svg.COLOURS["false"]),
        ("not adjudicated", [r["unadjudicated"] for r in rows], svg.COLOURS["open"]),
    ]


@login_required
@require_GET
def effectiveness(request):
    action = "export" if _wants_csv(request) else "view"
    access.require(request.user, "report", action)
    form = ReportFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    if _wants_csv(request):
        by = request.GET.get("by", "month")
        if by not in selectors.GROUPINGS:
            raise Http404("No such grouping.")
        report = selectors.effectiveness(by=by, **filters)
        return csv_response(
            f"effectiveness-by-{by}.csv",
            selectors.EFFECTIVENESS_COLUMNS,
            [*report["rows"], report["total"]],
        )
    sections = []
    reports = selectors.effectiveness_all(**filters)
    for by, title in selectors.GROUPINGS.items():
        report = reports[by]
        chart = None
        if by != "deployment":
            chart = svg.bar_chart(
                label=f"Alerts by {title.lower()}: true, false and not adjudicated",
                categories=[r["label"] for r in report["rows"]],
                series=_decision_series(report["rows"]),
            )
        query = request.GET.copy()
        query["format"], query["by"] = "csv", by
        sections.append(
            {"by": by, "title": title, "report": report, "chart": chart, "csv": query.urlencode()}
        )
    total = sections[0]["report"]["total"]
    return render(
        request,
        "oversight/effectiveness.html",
        {"form": form, "sections": sections, "total": total},
    )


@login_required
@require_GET
def accuracy(request):
    action = "export" if _wants_csv(request) else "view"
    access.require(request.user, "evaluation", action)
    runs = selectors.evaluation_runs()
    run_id = request.GET.get("run")
    run = runs.filter(pk=run_id).first() if run_id and run_id.isdigit() else runs.first()
    if run_id and run is None:
        raise Http404("No such evaluation run.")
    report = selectors.accuracy(run) if run else None
    if _wants_csv(request):
        if report is None:
            raise Http404("No evaluation run yet.")
        columns = (
            selectors.IDENTIFICATION_COLUMNS
            if report["kind"] == "identification"
            else ["threshold", "tpr", "fpr", "accuracy"]
        )
        return csv_response(
            f"accuracy-run-{run.pk}.csv",
            list(columns),
            [{c: r.get(c) for c in columns} for r in report["rows"]],
        )
    chart = None
    if report:
        one_to_n = report["kind"] == "identification"
        keys = ("tpir", "fpir") if one_to_n else ("tpr", "fpr")
        names = (
            (
                "true positive identification rate (TPIR)",
                "false positive identification rate (FPIR)",
            )
            if one_to_n
            else ("true positive rate (TPR)", "false positive rate (FPR)")
        )
        point = report["operating_point"]
        chart = svg.line_chart(
            label=f"{'Open-set identification' if one_to_n else 'True and false positive'} "
            "rates against the distance threshold",
            xs=[r["threshold"] for r in report["rows"]],
            series=[
                (name, [r.get(key) for r in report["rows"]], svg.COLOURS[colour])
                for name, key, colour in zip(names, keys, ("tpr", "fpr"), strict=True)
            ],
            x_label="distance threshold (lower = stricter)",
            marker=point.get("threshold"),
            marker_label=f"operating point {point.get('threshold')}",
        )
    return render(
        request,
        "oversight/accuracy.html",
        {
            "runs": runs[:50],
            "run": run,
            "report": report,
            "chart": chart,
            "can_evaluate": access.can(request.user, "evaluation_job", "create"),
        },
    )


@login_required
def evaluation_start(request):
    from django.db import transaction

    from oversight.forms import EvaluationUploadForm
    from recognition.services.evaluation import evaluation_job_create
    from recognition.tasks import evaluation_run

    access.require(request.user, "evaluation_job", "create")
    form = EvaluationUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["archive"]
        try:
            job = evaluation_job_create(
                by=request.user, archive=upload.read(), source_name=upload.name
            )
        except ValidationError as exc:
            form.add_error("archive", exc.messages)
        else:
            transaction.on_commit(lambda: evaluation_run.delay(job.pk))
            return redirect("oversight:evaluation_job", job_id=job.pk)
    jobs = selectors.evaluation_jobs()[:10]
    return render(
        request,
        "oversight/evaluation_start.html",
        {"form": form, "jobs": jobs},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def evaluation_job(request, job_id: int):
    job = selectors.evaluation_jobs().filter(pk=job_id).first()
    if job is None:
        raise Http404("No such evaluation.")
    access.require(request.user, "evaluation_job", "view", job)
    if request.GET.get("format") == "json":
        return JsonResponse(job.status(run=job.run_id))
    return render(request, "oversight/evaluation_job.html", {"job": job})


@login_required
@require_GET
def equality(request):
    action = "export" if _wants_csv(request) else "view"
    access.require(request.user, "report", action)
    form = PeriodForm(request.GET or None)
    report = selectors.equality(**(form.period() if form.is_bound else {}))
    columns = [
        "group", "alerts", "false_alerts", "rate", "ci_low", "ci_high", "too_few",
    ]  # fmt: skip
    if _wants_csv(request):
        return csv_response("equality.csv", columns, report["rows"])
    query = request.GET.copy()
    query["format"] = "csv"
    shown = [r for r in report["rows"] if r["alerts"]]
    chart = svg.interval_chart(
        label="False alert rate by perceived group, with 95% Wilson intervals",
        rows=[(r["group"], r["rate"], r["ci_low"], r["ci_high"], r["too_few"]) for r in shown],
    )
    return render(
        request,
        "oversight/equality.html",
        {
            "form": form,
            "csv": query.urlencode(),
            "report": report,
            "chart": chart,
            "min_n": selectors.MIN_N,
            "max_width_pct": round(selectors.MAX_CI_WIDTH * 100),
        },
    )


# --- retention and legal holds ----------------------------------------------------------


@login_required
@require_GET
def retention(request):
    access.require(request.user, "alert", "list")
    return render(
        request,
        "oversight/retention.html",
        {
            "r": selectors.retention(),
            "schedule": selectors.retention_schedule(),
            "held": selectors.held_alerts(),
            "history": selectors.hold_history(),
            "receipts": selectors.deletion_receipts(),
            "may_hold": access.can(request.user, "alert", "hold"),
            "reason_form": ReasonForm(),
        },
    )


def _hold_change(request, pk, action, service, done):
    alert = get_object_or_404(Alert.objects.defer("crop"), pk=pk)
    access.require(request.user, "alert", action, alert)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Give a reason.")
        service(alert=alert, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Alert {alert.pk}: {done}.")
    return redirect("oversight:retention")


@login_required
@require_POST
def hold_place(request, pk):
    return _hold_change(request, pk, "hold", alert_hold_place, "legal hold placed")


@login_required
@require_POST
def hold_place_by_id(request):
    pk = request.POST.get("alert", "")
    if not pk.isdigit():
        messages.error(request, "Give the id of the alert to hold.")
        return redirect("oversight:retention")
    return hold_place(request, int(pk))


@login_required
@require_POST
def hold_release(request, pk):
    return _hold_change(request, pk, "release", alert_hold_release, "legal hold lifted")


# --- audit explorer ---------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


def _audit_csv_rows(events):
    for e in events.iterator(chunk_size=2000):
        yield {
            **{c: getattr(e, c) for c in selectors.AUDIT_CSV_COLUMNS if c != "details"},
            "at": e.at,  # csv_cell: ISO 8601 in the force's zone
            "details": json.dumps(e.details, sort_keys=True),
        }


@login_required
@require_GET
def audit(request):
    export = _wants_csv(request)
    access.require(request.user, "audit", "export" if export else "list")
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    events = selectors.audit_events(**filters)
    logged = {k: str(v) for k, v in filters.items()}
    if export:
        services.audit_read_record(
            by=request.user, action="audit.exported", details={"filters": logged}
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return csv_response(
            f"audit-{stamp}.csv", selectors.AUDIT_CSV_COLUMNS, _audit_csv_rows(events)
        )
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    services.audit_read_record(
        by=request.user,
        action="audit.viewed",
        details={"filters": logged, "page": page.number},
    )
    flags = selectors.audit_flags(
        since=filters.get("since"), until=filters.get("until"), user=filters.get("user", "")
    )
    query = request.GET.copy()
    query.pop("page", None)
    csv_query = query.copy()
    csv_query["format"] = "csv"
    return render(
        request,
        "oversight/audit.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "csv_query": csv_query.urlencode(),
            "chain": services.audit_chain_status(by=request.user),
            "flags": flags,
            # Administrators read the log and place holds but have no Reports menu.
            "may_see_retention": access.can(request.user, "alert", "list"),
        },
    )


@login_required
@require_POST
def audit_verify(request):
    access.require(request.user, "audit", "verify")
    result = services.audit_chain_verify(by=request.user)
    if result["ok"]:
        messages.success(request, f"Audit chain verified: {result['checked']} events intact.")
    else:
        messages.error(
            request, f"Audit chain broken at event #{result['bad_seq']}: {result['why']}."
        )
    return redirect("oversight:audit")


# --- the Art. 12(3) use log ---------------------------------------------------------------


@login_required
@require_GET
def art12_log(request):
    """Start and end of each use, its reference database, each match and who verified it,
    for a period; as a page, CSV or JSON. Every export is audited."""
    access.require(request.user, "audit", "export")
    form = PeriodForm(request.GET or None)
    period = form.period() if form.is_bound else {}
    fmt = request.GET.get("format", "")
    if fmt not in ("csv", "json"):
        return render(request, "oversight/art12.html", {"form": form})
    rows = selectors.art12_log(**period)
    audit_record(
        actor=request.user,
        action="audit.art12_export",
        details={
            "format": fmt,
            "rows": len(rows),
            **{k: v.isoformat() if v else None for k, v in period.items()},
        },
    )
    if fmt == "csv":
        return csv_response("art12-log.csv", selectors.ART12_COLUMNS, rows)
    return JsonResponse(
        {"period": {k: v.isoformat() if v else None for k, v in period.items()}, "uses": rows},
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )


# --- subject history (a sensitive read: purpose required) -------------------------------


@login_required
@require_GET
def subjects(request):
    access.require(request.user, "subject", "view")
    reference = request.GET.get("reference", "").strip()
    if reference:
        target = reverse("oversight:subject_history", args=[reference])
        purpose = request.GET.get("purpose", "")
        return redirect(f"{target}?{request.GET.copy().urlencode()}" if purpose else target)
    return render(request, "oversight/subject_lookup.html", {})


@login_required
@require_GET
def subject_history(request, reference):
    access.require(request.user, "subject", "view")
    try:
        purpose = purpose_from(request)
    except ValidationError as exc:
        # Asked, not refused, on first arrival; refused (400) when a bad purpose is given.
        status = 400 if "purpose" in request.GET else 200
        context = {"reference": reference, "errors": exc.messages if status == 400 else []}
        return render(request, "oversight/subject_purpose.html", context, status=status)
    history = services.subject_history_read(by=request.user, reference=reference, purpose=purpose)
    if history is None:
        raise Http404("No such subject.")
    return render(request, "oversight/subject_history.html", {**history, "purpose": purpose})
