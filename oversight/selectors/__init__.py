"""Reads for oversight: the reports (effectiveness, accuracy, equality), retention,
the audit explorer with its flags for unusual use, and a subject's history.

Oversight owns no tables; every figure here is computed from the other apps' records.
Each report returns plain rows (dicts) so the page, the chart, the CSV and the API all
show the same numbers.

One module per room, re-exported here so callers write `selectors.effectiveness(...)`:
art12 (the use log of EU AI Act Art. 12(3)), reports, retention_report (named so it does
not shadow the `retention` report itself), audit and subjects.
"""

from core.stats import MAX_CI_WIDTH, MIN_N, Z95, wilson_interval
from oversight.selectors.art12 import ART12_COLUMNS, art12_log
from oversight.selectors.audit import (
    AUDIT_CSV_COLUMNS,
    DENIED_LIMIT,
    DENIED_WINDOW,
    FLAG_DEFAULT_DAYS,
    IMAGE_VIEWS_LIMIT,
    IMAGE_VIEWS_WINDOW,
    JUNK_PURPOSES,
    SENSITIVE_READ_Q,
    STOP_NOTICE,
    SUBJECT_HISTORY_READS,
    audit_events,
    audit_flags,
    is_sensitive_read,
    live_outside_window,
    weak_purpose_reason,
)
from oversight.selectors.reports import (
    EFFECTIVENESS_COLUMNS,
    GROUPINGS,
    IDENTIFICATION_COLUMNS,
    NOT_RECORDED,
    Tally,
    accuracy,
    alert_facts,
    effectiveness,
    effectiveness_all,
    equality,
    evaluation_jobs,
    evaluation_runs,
    reported_deployments,
)
from oversight.selectors.retention_report import (
    HOLD_ACTIONS,
    RECEIPT_Q,
    deletion_receipts,
    held_alerts,
    hold_history,
    retention,
)
from oversight.selectors.retention_schedule import retention_schedule
from oversight.selectors.subjects import subject_history

__all__ = [
    "ART12_COLUMNS",
    "art12_log",
    "alert_facts",
    "Tally",
    "EFFECTIVENESS_COLUMNS",
    "GROUPINGS",
    "reported_deployments",
    "effectiveness_all",
    "effectiveness",
    "evaluation_jobs",
    "evaluation_runs",
    "accuracy",
    "IDENTIFICATION_COLUMNS",
    "Z95",
    "MIN_N",
    "MAX_CI_WIDTH",
    "NOT_RECORDED",
    "wilson_interval",
    "equality",
    "RECEIPT_Q",
    "retention",
    "retention_schedule",
    "held_alerts",
    "HOLD_ACTIONS",
    "hold_history",
    "deletion_receipts",
    "audit_events",
    "AUDIT_CSV_COLUMNS",
    "SUBJECT_HISTORY_READS",
    "IMAGE_VIEWS_LIMIT",
    "IMAGE_VIEWS_WINDOW",
    "DENIED_LIMIT",
    "DENIED_WINDOW",
    "FLAG_DEFAULT_DAYS",
    "JUNK_PURPOSES",
    "SENSITIVE_READ_Q",
    "is_sensitive_read",
    "weak_purpose_reason",
    "STOP_NOTICE",
    "live_outside_window",
    "audit_flags",
    "subject_history",
]
