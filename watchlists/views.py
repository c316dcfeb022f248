"""Pages for watchlists: thin callers of selectors and services; access via core.access."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import access
from core.exports import jpeg_response
from core.forms import ReasonForm
from core.models import AuditEvent
from core.purpose import clean_purpose, purpose_from
from recognition.engine.intake import IntakeError
from watchlists import selectors, services
from watchlists.forms import SubmitForm
from watchlists.models import Category, WatchlistEntry


def _purpose(request) -> tuple[str, str]:
    """(purpose, error): the purpose given to show images on this page, if any."""
    raw = request.GET.get("purpose", "")
    if not raw:
        return "", ""
    try:
        return clean_purpose(raw), ""
    except ValidationError as exc:
        return "", " ".join(exc.messages)


@login_required
def entries(request):
    state = request.GET.get("state", "")
    category = request.GET.get("category", "")
    q = request.GET.get("q", "").strip()[:100]
    filters = {
        "state": state if state in WatchlistEntry.State.values else "",
        "category": category if category in Category.values else "",
        "q": q,
    }
    qs = selectors.entry_list(user=request.user, **filters)
    purpose, purpose_error = _purpose(request)
    page = None
    if purpose:  # nothing is listed (or audited as read) until the reader says why
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
        services.entries_consult(
            by=request.user,
            purpose=purpose,
            context="page",
            filters=filters,
            entries=list(page),
            total=page.paginator.count,
        )
    return render(
        request,
        "watchlists/entries.html",
        {
            "page": page,
            "states": WatchlistEntry.State.choices,
            "categories": Category.choices,
            "state": state,
            "category": category,
            "q": q,
            "purpose": purpose,
            "purpose_error": purpose_error,
            "today": timezone.localdate(),
        },
    )


def _near(request, entries: list, context: str) -> dict[int, list[dict]]:
    """Near matches under other subjects per entry, each with its held image (shown only
    when a purpose is given, like every reference image)."""
    found = services.entries_near_matches(entries=entries, by=request.user, context=context)
    images = selectors.images_by_id([m.image_id for ms in found.values() for m in ms])
    return {
        pk: [{"match": m, "img": images.get(m.image_id)} for m in ms] for pk, ms in found.items()
    }


def _apart(entries: list) -> dict[int, list[dict]]:
    """Per entry, each photo apart from the subject's others beside the nearest of them."""
    found = selectors.entries_photos_apart(entries)
    ids = [i for ps in found.values() for p in ps for i in (p.image_id, p.other_image_id)]
    images = selectors.images_by_id(ids)
    return {
        pk: [
            {"img": images.get(p.image_id), "other": images.get(p.other_image_id), "apart": p}
            for p in ps
        ]
        for pk, ps in found.items()
    }


@login_required
def queue(request):
    access.require(request.user, "watchlist", "view")
    purpose, purpose_error = _purpose(request)
    if not purpose:  # the queue shows legal bases and cases: a purpose first, as for a list
        return render(
            request,
            "watchlists/queue.html",
            {"items": [], "purpose": purpose, "purpose_error": purpose_error},
        )
    queue = selectors.review_queue()
    if request.GET.get("one"):
        # After a decision: the next entry this manager may decide, alone, so deciding
        # does not show (and read) the whole queue again.
        nxt = next((e for e in queue if access.can(request.user, "watchlist", "approve", e)), None)
        queue = queue.filter(pk=nxt.pk) if nxt is not None else queue.none()
    page = Paginator(queue, 20).get_page(request.GET.get("page"))
    services.entries_consult(
        by=request.user,
        purpose=purpose,
        context="queue",
        filters={"state": WatchlistEntry.State.PENDING},
        entries=list(page),
        total=page.paginator.count,
    )
    near = _near(request, list(page), "queue")
    apart = _apart(list(page))
    items = [
        {
            "entry": entry,
            "images": list(entry.images.filter(jpeg__isnull=False)),
            "existing": list(selectors.subject_images(entry.subject, exclude_entry_id=entry.pk)),
            "may_decide": access.can(request.user, "watchlist", "approve", entry),
            "distance": selectors.candidate_distance(entry),
            "near": near[entry.pk],
            "apart": apart[entry.pk],
        }
        for entry in page
    ]
    return render(
        request,
        "watchlists/queue.html",
        {
            "page": page,
            "items": items,
            "purpose": purpose,
            "purpose_error": purpose_error,
            "waiting": selectors.review_queue().count(),
            "one": bool(request.GET.get("one")),
            "same_person": selectors.SAME_PERSON_DISTANCE,
            "near_distance": selectors.near_distance(),
        },
    )


@login_required
def entry(request, entry_id: int):
    obj = services.entry_consult(entry_id=entry_id, by=request.user)
    purpose, purpose_error = _purpose(request)
    u = request.user
    return render(
        request,
        "watchlists/entry.html",
        {
            "entry": obj,
            "images": list(obj.images.all()),
            "existing": list(selectors.subject_images(obj.subject, exclude_entry_id=obj.pk)),
            "near": _near(request, [obj], "entry")[obj.pk],
            "apart": _apart([obj])[obj.pk],
            "same_person": selectors.SAME_PERSON_DISTANCE,
            "near_distance": selectors.near_distance(),
            "purpose": purpose,
            "purpose_error": purpose_error,
            "may_approve": obj.state == "pending" and access.can(u, "watchlist", "approve", obj),
            "may_withdraw": obj.state in {"pending", "approved"}
            and access.can(u, "watchlist", "withdraw", obj),
            "may_expire": obj.state == "approved" and access.can(u, "watchlist", "expire", obj),
            "form": ReasonForm(),
        },
    )


@login_required
@require_POST
def act(request, entry_id: int, action: str):
    selectors.entry_get(user=request.user, entry_id=entry_id)  # outsiders: 404
    form = ReasonForm(request.POST)
    reason = form.data.get("reason", "")
    try:
        if action in {"approve", "reject"}:
            services.entry_decide(
                entry_id=entry_id,
                by=request.user,
                approve=action == "approve",
                reason=reason,
                duplicate_reason=request.POST.get("duplicate_reason", ""),
                other_person_reason=request.POST.get("other_person_reason", ""),
            )
        elif action in {"withdraw", "expire"}:
            services.entry_end(
                entry_id=entry_id, by=request.user, withdraw=action == "withdraw", reason=reason
            )
        else:
            raise Http404("No such action.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Entry {entry_id}: {action} recorded.")
    back = request.POST.get("next", "")
    # Only back to our own pages: never an open redirect.
    if back.startswith("/watchlists/") and "//" not in back:
        return redirect(back)
    return redirect("watchlists:entry", entry_id=entry_id)


@login_required
def submit(request):
    access.require(request.user, "watchlist", "submit")
    form = SubmitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            created = services.entry_submit_upload(by=request.user, upload=v["image"], fields=v)
        except IntakeError as exc:
            form.add_error("image", f"Refused ({exc.rule}): {exc.message}")
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, f"Entry {created.pk} submitted; it awaits a manager.")
            return redirect("watchlists:entry", entry_id=created.pk)
    return render(
        request, "watchlists/submit.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def check(request):
    """The live quality check behind the submit form: a verdict as JSON, nothing stored."""
    access.require(request.user, "watchlist", "submit")
    try:
        return JsonResponse(
            services.image_check_verdict(
                by=request.user,
                upload=request.FILES.get("image"),
                subject_reference=request.POST.get("subject_reference", "")[:64],
            )
        )
    except ValidationError as exc:
        return JsonResponse({"ok": False, "rule": "invalid", "detail": " ".join(exc.messages)})


@login_required
def subject(request, subject_id: int):
    access.require(request.user, "watchlist", "view")
    purpose, purpose_error = _purpose(request)
    if not purpose:
        # Nothing is shown (or audited as read) until the reader says why.
        return render(
            request,
            "watchlists/subject.html",
            {"purpose": purpose, "purpose_error": purpose_error, "subject_id": subject_id},
        )
    subj = services.subject_consult(subject_id=subject_id, by=request.user, purpose=purpose)
    history = list(
        subj.entries.select_related("submitted_by", "decided_by").order_by("submitted_at", "pk")
    )
    events = AuditEvent.objects.filter(
        object_type="watchlists.watchlistentry", object_id__in=[str(e.pk) for e in history]
    ).order_by("seq")
    return render(
        request,
        "watchlists/subject.html",
        {"subject": subj, "history": history, "events": events, "purpose": purpose},
    )


@login_required
def image(request, image_id: int):
    access.require(request.user, "watchlist", "view")
    try:
        purpose = purpose_from(request)
    except ValidationError as exc:
        return JsonResponse({"detail": " ".join(exc.messages), "rule": "purpose"}, status=400)
    image = services.image_consult(image_id=image_id, by=request.user, purpose=purpose)
    return jpeg_response(image.jpeg, filename=f"reference-{image.pk}.jpg")


# --- bulk import from the page (a Celery task; progress polled) ---------------------------


@login_required
def bulk_import(request):
    from django.db import transaction

    from watchlists.forms import ImportForm
    from watchlists.services import bulk
    from watchlists.tasks import import_run

    access.require(request.user, "watchlist_import", "create")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data, name = form.archive_bytes()
        fields = {k: form.cleaned_data.get(k) for k in bulk.ENTRY_FIELDS}
        try:
            job = bulk.import_job_create(
                by=request.user, archive=data, source_name=name, fields=fields
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            transaction.on_commit(lambda: import_run.delay(job.pk))
            return redirect("watchlists:import_job", job_id=job.pk)
    jobs = _import_jobs().filter(by=request.user)  # one's own imports only
    return render(
        request,
        "watchlists/import.html",
        {"form": form, "jobs": jobs[:10]},
        status=400 if form.errors else 200,
    )


def _import_jobs():
    from watchlists.models import ImportJob

    return ImportJob.objects.defer("archive")


@login_required
def import_job(request, job_id: int):
    job = _import_jobs().filter(pk=job_id).first()
    if job is None:
        raise Http404("No such import.")
    access.require(request.user, "watchlist_import", "view", job)
    if request.GET.get("format") == "json":
        return JsonResponse(job.status(totals=job.totals))
    return render(request, "watchlists/import_job.html", {"job": job})
