"""The purpose (or case reference) that every sensitive read must give (DPA 2018 s.62)."""

from django.core.exceptions import ValidationError

MIN_LENGTH = 5


def clean_purpose(value: str | None) -> str:
    """Return the stripped purpose, or raise ValidationError saying what is missing."""
    purpose = " ".join((value or "").split())
    if not purpose:
        raise ValidationError(
            "A purpose or case reference is required to view this record.", code="purpose"
        )
    if len(purpose) < MIN_LENGTH:
        raise ValidationError(
            f"The purpose must be at least {MIN_LENGTH} characters: say why you need this.",
            code="purpose",
        )
    return purpose[:500]


def purpose_from(request) -> str:
    """Read `purpose` from the query string or form (pages and API use the same name)."""
    return clean_purpose(request.POST.get("purpose") or request.GET.get("purpose"))
