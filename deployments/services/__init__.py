"""Writes for deployments: planning, authorisation, the activation gate, the frozen
watchlist, the lifecycle and the published record.

Every rule is refused with a ValidationError whose message says what to change. State
changes are claimed with a conditional UPDATE checked by row count, so two people (or
the beat task and a person) acting at once cannot both win.

One module per room, re-exported here so callers write `services.deployment_create(...)`:
states (the lifecycle's transitions), cameras, planning, authorisation, snapshot (the watchlist
frozen at authorisation), lifecycle (the activation gate, going live, ending, the beat task and the
snapshot's retention), records (the published record), publication (the notice of each
use to the authorities, advance public notice) and blue_list (test walk-throughs).
"""

from deployments.services.authorisation import (
    deployment_authorise,
    deployment_cancel,
    deployment_refuse,
)
from deployments.services.blue_list import walkthrough_record
from deployments.services.cameras import (
    camera_create,
    camera_update,
    camera_validate_stream_url,
    site_create,
)
from deployments.services.independent import (
    assessment_record,
    independent_authorisation_record,
)
from deployments.services.lifecycle import (
    activation_blockers,
    activation_window,
    deployment_complete,
    deployment_go_live,
    deployment_purge,
    deployment_stop,
    lifecycle_tick,
    watchlist_retention,
    window_blocker,
)
from deployments.services.planning import (
    MAX_WATCHLIST_SIZE,
    PLAN_FIELDS,
    PLAN_PURPOSE_AND_SITE,
    PLAN_TERMS,
    PLAUSIBLE_YEARS,
    deployment_create,
    deployment_submit,
    deployment_update,
    verification_default,
)
from deployments.services.publication import (
    NOTIFIABLE,
    deployment_notice_decide,
    use_notice_send,
)
from deployments.services.records import record_compute, record_review, record_signoff
from deployments.services.states import EDITABLE, TRANSITIONS, State

__all__ = [
    "MAX_WATCHLIST_SIZE",
    "PLAUSIBLE_YEARS",
    "State",
    "TRANSITIONS",
    "EDITABLE",
    "PLAN_PURPOSE_AND_SITE",
    "PLAN_TERMS",
    "PLAN_FIELDS",
    "verification_default",
    "deployment_create",
    "deployment_update",
    "deployment_submit",
    "camera_validate_stream_url",
    "site_create",
    "camera_create",
    "camera_update",
    "deployment_authorise",
    "deployment_refuse",
    "deployment_cancel",
    "activation_blockers",
    "activation_window",
    "window_blocker",
    "deployment_go_live",
    "deployment_complete",
    "deployment_stop",
    "deployment_purge",
    "independent_authorisation_record",
    "assessment_record",
    "lifecycle_tick",
    "watchlist_retention",
    "record_compute",
    "record_review",
    "record_signoff",
    "NOTIFIABLE",
    "use_notice_send",
    "deployment_notice_decide",
    "walkthrough_record",
]
