"""Storing accuracy measurements of the engine for the oversight reports, and running them
from the accuracy page on an uploaded set of labelled pairs (a Celery task with progress)."""

import csv
import io
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import access
from core.services import audit_record
from recognition.engine.evaluation import IMAGE_SUFFIXES, Pair, evaluate, parse_thresholds
from recognition.engine.identification import evaluate_folders
from recognition.models import EvaluationJob, EvaluationRun

# An upload is bounded before anything is decompressed, and so is the work it asks for.
ZIP_MAX_FILES = 2000
ZIP_MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_PAIRS = 5000
THRESHOLDS = "0.30:0.80:0.01"
IDENTIFICATION_THRESHOLDS = "0.30:0.70:0.01"
TARGET_FMRS = [0, 0.005, 0.01, 0.05]
SAME = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


@transaction.atomic
def evaluation_run_record(
    *, dataset: str, result: dict, operating_threshold: float
) -> EvaluationRun:
    """Keep one evaluation's per-threshold rates (figures only, no encodings or images)."""
    run = EvaluationRun.objects.create(
        dataset=dataset,
        pairs=result["pairs"],
        operating_threshold=operating_threshold,
        thresholds=result["thresholds"],
        operating_point=result["operating_point"],
        no_face=result["no_face"],
    )
    audit_record(
        action="evaluation.record",
        obj=run,
        details={"pairs": run.pairs, "operating_threshold": operating_threshold},
    )
    return run


@transaction.atomic
def identification_run_record(
    *, dataset: str, result: dict, operating_point: dict
) -> EvaluationRun:
    """Keep one 1:N evaluation's per-threshold counts and bounds (figures only)."""
    summary_keys = (
        "identities",
        "gallery_images",
        "mated",
        "non_mated",
        "mated_no_face",
        "non_mated_no_face",
        "comparisons",
        "closest_impostor",
        "confidence",
        "interval_method",
    )
    run = EvaluationRun.objects.create(
        kind=EvaluationRun.Kind.IDENTIFICATION,
        dataset=dataset,
        pairs=result["mated"] + result["non_mated"],
        operating_threshold=operating_point.get("threshold") or settings.LFR_THRESHOLD_DEFAULT,
        thresholds=result["thresholds"],
        operating_point=operating_point,
        no_face=result["no_face"],
        summary={key: result[key] for key in summary_keys},
    )
    audit_record(
        action="evaluation.record",
        obj=run,
        details={"kind": run.kind, "searches": run.pairs, "comparisons": result["comparisons"]},
    )
    return run


def _zip_members(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive and its files (not folders, not dot files), bounded before unpacking."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValidationError("The file is not a ZIP archive.") from None
    members = [
        m
        for m in archive.infolist()
        if not m.is_dir()
        and not any(p.startswith(".") or p == "__MACOSX" for p in PurePosixPath(m.filename).parts)
    ]
    if len(members) > ZIP_MAX_FILES:
        raise ValidationError(f"The ZIP holds {len(members)} files; at most {ZIP_MAX_FILES}.")
    if sum(m.file_size for m in members) > ZIP_MAX_TOTAL_BYTES:
        raise ValidationError(
            f"The ZIP unpacks to more than {ZIP_MAX_TOTAL_BYTES // 2**20} MB; split it."
        )
    return archive, members


def is_identification_zip(data: bytes) -> bool:
    """A ZIP with gallery/ and probes/ folders (and no pairs.csv) is a 1:N set."""
    _, members = _zip_members(data)
    parts = {p for m in members for p in PurePosixPath(m.filename).parts[:-1]}
    names = {PurePosixPath(m.filename).name for m in members}
    return {"gallery", "probes"} <= parts and "pairs.csv" not in names


def identification_from_zip(data: bytes) -> tuple[dict, zipfile.ZipFile]:
    """{"gallery": {identity: [member]}, "probes": {...}} of an upload, or why not.

    Images sit at `[folder/]gallery/<identity>/<image>` and `[folder/]probes/<identity>/
    <image>`; anything else in the ZIP is refused rather than silently ignored.
    """
    archive, members = _zip_members(data)
    layout = {"gallery": {}, "probes": {}}
    for member in members:
        path = PurePosixPath(member.filename)
        parts = path.parts
        part = parts[-3] if len(parts) >= 3 else None
        if part not in layout or ".." in parts or path.suffix.lower() not in IMAGE_SUFFIXES:
            raise ValidationError(
                f"Unknown file {member.filename}: a 1:N set holds only JPEG or PNG images "
                "in gallery/<person>/ and probes/<person>/."
            )
        if member.file_size > settings.LFR_MAX_UPLOAD_BYTES:
            raise ValidationError(f"{member.filename} is larger than the upload limit.")
        layout[part].setdefault(parts[-2], []).append(member)
    for part, folders in layout.items():
        if not folders:
            raise ValidationError(f"The ZIP holds no images under {part}/<person>/.")
    return layout, archive


def pairs_from_zip(data: bytes) -> tuple[list[Pair], dict[str, zipfile.ZipInfo], zipfile.ZipFile]:
    """The pairs of an upload and the image each name refers to, or why it cannot run.

    The ZIP holds `pairs.csv` (columns a, b, same: yes/no) and the images it names, by
    path relative to it; anything else in it is refused rather than silently ignored.
    """
    archive, members = _zip_members(data)
    lists = [m for m in members if PurePosixPath(m.filename).name == "pairs.csv"]
    if len(lists) != 1:
        raise ValidationError(
            "The ZIP holds no pairs.csv." if not lists else "The ZIP holds more than one pairs.csv."
        )
    root = PurePosixPath(lists[0].filename).parent
    images = {}
    for member in members:
        path = PurePosixPath(member.filename)
        if member is lists[0]:
            continue
        inside = root == PurePosixPath(".") or root in path.parents
        if not inside or ".." in path.parts or path.suffix.lower() not in IMAGE_SUFFIXES:
            raise ValidationError(
                f"Unknown file {member.filename}: only pairs.csv and the JPEG or PNG images "
                "beside it (or in folders under it) belong in the ZIP."
            )
        if member.file_size > settings.LFR_MAX_UPLOAD_BYTES:
            raise ValidationError(f"{member.filename} is larger than the upload limit.")
        images[str(path.relative_to(root))] = member
    return _read_pairs(archive.read(lists[0]), images), images, archive


def _read_pairs(raw: bytes, images: dict) -> list[Pair]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("pairs.csv is not UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"a", "b", "same"} - {(f or "").strip() for f in reader.fieldnames or []}
    if missing:
        raise ValidationError(f"pairs.csv lacks column(s) {', '.join(sorted(missing))} (a,b,same).")
    pairs = []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if len(pairs) == MAX_PAIRS:
            raise ValidationError(f"pairs.csv holds more than {MAX_PAIRS} pairs; split it.")
        same = SAME.get(row["same"].lower())
        if same is None:
            raise ValidationError(f"pairs.csv line {line}: same must be yes or no.")
        for name in (row["a"], row["b"]):
            if name not in images:
                raise ValidationError(f"pairs.csv line {line}: no image {name!r} in the ZIP.")
        pairs.append(Pair(row["a"], row["b"], same))
    if not pairs:
        raise ValidationError("pairs.csv holds no pairs.")
    return pairs


def evaluation_job_create(*, by, archive: bytes, source_name: str) -> EvaluationJob:
    """Queue an evaluation of an uploaded pairs set; refused at once if it cannot run."""
    access.require(by, "evaluation_job", "create")
    if is_identification_zip(archive):
        layout, _ = identification_from_zip(archive)
        searches = sum(len(v) for v in layout["probes"].values())
        count = (searches, searches + sum(len(v) for v in layout["gallery"].values()))
    else:
        pairs, images, _ = pairs_from_zip(archive)
        count = (len(pairs), len({p.file_x for p in pairs} | {p.file_y for p in pairs}))
    with transaction.atomic():
        job = EvaluationJob.objects.create(
            by=by,
            source_name=source_name[:200],
            archive=archive,
            pairs=count[0],
            total=count[1],
        )
        audit_record(
            actor=by,
            action="evaluation.queued",
            obj=job,
            details={"pairs": count[0], "images": count[1], "source": job.source_name},
        )
    return job


def evaluation_job_run(*, job_id: int) -> str:
    """Run a queued evaluation (a worker's task): claim it, evaluate, store the run."""
    won = EvaluationJob.objects.filter(pk=job_id, state=EvaluationJob.State.QUEUED).update(
        state=EvaluationJob.State.RUNNING
    )
    if not won:
        return "not queued"  # run already, or by another worker
    job = EvaluationJob.objects.select_related("by").get(pk=job_id)
    done = [0]

    def progress(message):
        if message.startswith("encoded"):  # one per image; the search reports in blocks
            done[0] += 1
            EvaluationJob.objects.filter(pk=job_id).update(processed=done[0])

    try:
        data = bytes(job.archive)
        uploaded = f"{job.source_name} (uploaded from the accuracy page by {job.by.username})"
        with tempfile.TemporaryDirectory(prefix="lfr-eval-") as tmp:
            if is_identification_zip(data):
                run = _identification_upload(data, Path(tmp), progress, uploaded)
            else:
                result = _evaluate_upload(data, Path(tmp), progress)
                run = evaluation_run_record(
                    dataset=(
                        f"{uploaded}: {result['genuine_pairs']} same-person and "
                        f"{result['impostor_pairs']} different-person pairs"
                    ),
                    result=result,
                    operating_threshold=settings.LFR_THRESHOLD_DEFAULT,
                )
    except Exception as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else ""
        EvaluationJob.objects.filter(pk=job_id).update(
            state=EvaluationJob.State.FAILED,
            error=f"The evaluation stopped: {message or type(exc).__name__}. No run was stored.",
            archive=None,
            finished_at=timezone.now(),
        )
        _audit(actor=job.by, action="evaluation.failed", obj=job, details={})
        if isinstance(exc, ValidationError):
            return "failed"
        raise
    EvaluationJob.objects.filter(pk=job_id).update(
        state=EvaluationJob.State.DONE, run=run, archive=None, finished_at=timezone.now()
    )
    _audit(actor=job.by, action="evaluation.done", obj=job, details={"run": run.pk})
    return "done"


@transaction.atomic
def _audit(**fields):
    audit_record(**fields)


def _evaluate_upload(data: bytes, tmp: Path, progress) -> dict:
    """Unpack the named images (each under its own folder: names may repeat) and evaluate."""
    pairs, images, archive = pairs_from_zip(data)
    names = sorted({p.file_x for p in pairs} | {p.file_y for p in pairs})
    local = {}
    for i, name in enumerate(names):
        folder = tmp / str(i)
        folder.mkdir()
        (folder / PurePosixPath(name).name).write_bytes(archive.read(images[name]))
        local[name] = f"{i}/{PurePosixPath(name).name}"
    back = {v: k for k, v in local.items()}
    result = evaluate(
        [Pair(local[p.file_x], local[p.file_y], p.same) for p in pairs],
        tmp,
        parse_thresholds(THRESHOLDS),
        settings.LFR_THRESHOLD_DEFAULT,
        TARGET_FMRS,
        progress=progress,
    )
    result["no_face"] = sorted(back[name] for name in result["no_face"])
    return result


def identification_operating_point(result: dict, *, watchlist_size: int | None = None) -> dict:
    """The operating point the product would choose from this result (as a stored run's)."""
    from recognition.selectors import largest_authorised_watchlist, operating_point_from_rows

    size = watchlist_size or largest_authorised_watchlist()
    point = operating_point_from_rows(
        result["thresholds"], watchlist_size=size, source="this evaluation"
    )
    row = next((r for r in result["thresholds"] if r["threshold"] == point["threshold"]), {})
    return {
        **{k: point[k] for k in ("threshold", "watchlist_size", "tpir", "fpir_bound")},
        "fpir": row.get("fpir"),
        "mated": result["mated"],
        "non_mated": result["non_mated"],
        "policy": point["policy"],
        "supported": point["supported"],
        "words": point["words"],
    }


def identification_dataset(result: dict, where: str) -> str:
    return (
        f"{where}: {result['identities']} people in the gallery "
        f"({result['gallery_images']} images), {result['mated']} mated and "
        f"{result['non_mated']} non-mated searches, {result['comparisons']:,} comparisons "
        "of distinct people"
    )


def _identification_upload(data: bytes, tmp: Path, progress, uploaded: str) -> EvaluationRun:
    """Unpack gallery/ and probes/ (numbered names: uploads may repeat them) and search."""
    layout, archive = identification_from_zip(data)
    for part, folders in layout.items():
        for identity, members in folders.items():
            folder = tmp / part / identity
            folder.mkdir(parents=True)
            for i, member in enumerate(members):
                name = PurePosixPath(member.filename)
                (folder / f"{i:05d}{name.suffix.lower()}").write_bytes(archive.read(member))
    result = evaluate_folders(
        tmp / "gallery", tmp / "probes", parse_thresholds(IDENTIFICATION_THRESHOLDS), progress
    )
    return identification_run_record(
        dataset=identification_dataset(result, uploaded),
        result=result,
        operating_point=identification_operating_point(result),
    )
