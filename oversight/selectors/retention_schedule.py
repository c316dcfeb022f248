"""Every class of record the system holds, with its documented retention period, read
from the settings in force (the ICO's 2025 audit of South Wales and Gwent asked for
retention periods documented consistently across all core records)."""

from django.conf import settings


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def retention_schedule() -> list[dict]:
    s = settings
    purge = s.LFR_ENTRY_PURGE_DAYS
    hours = s.LFR_URGENT_AUTHORISE_HOURS
    return [
        {
            "record": "Faces that do not match",
            "period": "never stored: discarded in memory; only a count survives",
            "enforced": "the recognition pipeline (no code path writes them)",
        },
        {
            "record": "Camera footage",
            "period": "never stored: frames are read, matched and dropped",
            "enforced": "the stream workers",
        },
        {
            "record": "Alerts (match, face crop, sightings, decisions)",
            "period": f"{_days(s.LFR_ALERT_RETENTION_DAYS)} from the alert, unless on legal hold",
            "enforced": "hourly retention job, with a receipt (LFR_ALERT_RETENTION_DAYS)",
        },
        {
            "record": "A deployment's frozen watchlist (encodings)",
            "period": f"{s.LFR_WATCHLIST_GRACE_HOURS} h after the deployment ends; "
            "the list of entry ids is kept with the deployment",
            "enforced": "retention job, with a receipt (LFR_WATCHLIST_GRACE_HOURS)",
        },
        {
            "record": "Everything an unauthorised urgent use collected",
            "period": f"deleted at once when the use is refused (internally or by the "
            f"independent authority) or not authorised within {hours} h",
            "enforced": "lifecycle tick and the decision itself, with a receipt "
            "(LFR_URGENT_AUTHORISE_HOURS)",
        },
        {
            "record": "Watchlist entries",
            "period": f"reviewed every {_days(s.LFR_ENTRY_REVIEW_DAYS)}; expire "
            f"{_days(s.LFR_ENTRY_EXPIRY_DAYS)} after submission unless renewed",
            "enforced": "expiry job (LFR_ENTRY_REVIEW_DAYS, LFR_ENTRY_EXPIRY_DAYS)",
        },
        {
            "record": "Reference images of expired or withdrawn entries",
            "period": f"{_days(purge)} after the entry ends" if purge else "as soon as it ends",
            "enforced": "purge job, with a receipt (LFR_ENTRY_PURGE_DAYS)",
        },
        {
            "record": "Deployments, authorisations, independent decisions, published records",
            "period": "kept: the public record of each use (no face data)",
            "enforced": "not deleted by the system",
        },
        {
            "record": "Assessments (DPIA, policy, equality, FRIA, EU registration)",
            "period": "every version kept; each in force until its review date",
            "enforced": "the activation gate refuses one past review (LFR_REQUIRED_ASSESSMENTS)",
        },
        {
            "record": "Audit log",
            "period": "kept (at least 6 months: DPA 2018 s.62, AI Act Art. 12 and 26(6)); "
            "tamper-evident, never edited",
            "enforced": "not deleted by the system",
        },
    ]
