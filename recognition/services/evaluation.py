"""Storing accuracy measurements of the engine for the oversight reports."""

from django.db import transaction

from core.services import audit_record
from recognition.models import EvaluationRun


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
