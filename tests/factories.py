"""The tests' one deployment factory and one alert factory.

`make_deployment(**overrides)` writes a deployment row directly (no services: the tests
that exercise the planning rules go through `services` themselves); any model field can
be overridden, plus `officers` and `cameras` (the cameras, or how many to make at its site).
`make_alert` goes through `recognition.services.alerts.alert_raise`, the real service, so
an alert made here has its sequence number, its audit row and its publish after commit.
"""

import itertools
from datetime import datetime, timedelta
from unittest import mock

from django.utils import timezone

from deployments.models import Camera, Deployment, DeploymentWatchlist, Site
from recognition.models import Alert
from recognition.services import alerts as alerts_service
from recognition.services.alerts import alert_raise
from tests.helpers import faces, make_user

_numbers = itertools.count(1)


def sample_jpeg(name: str = "obama.jpg") -> bytes:
    """A real photograph's bytes (JPEG), standing in for a probe crop."""
    return faces("examples", name).read_bytes()


def make_deployment(*, officers=(), cameras: int | list[Camera] = 1, **overrides) -> Deployment:
    """A live deployment (by default) at a site of its own, running since five minutes ago."""
    n = next(_numbers)
    now = timezone.now()
    state = overrides.setdefault("state", Deployment.State.LIVE)
    ran = state in (Deployment.State.LIVE, Deployment.State.COMPLETED)
    values = {
        "reference": f"FAC-{n}",
        "use_case": "crime_hotspot",
        "starts_at": now - timedelta(minutes=5),
        "ends_at": now + timedelta(hours=2),
        "necessity": "n",
        "proportionality": "p",
        "location_rationale": "l",
        "watchlist_categories": ["wanted"],
        "max_watchlist_size": 100,
        "threshold": 0.5,
        **overrides,
    }
    if "site" not in values:
        values["site"] = Site.objects.create(name=f"Factory site {n}")
    if "requested_by" not in values:
        values["requested_by"] = make_user(f"factory-planner{n}")
    values.setdefault("started_at", now if ran else None)
    deployment = Deployment.objects.create(**values)
    if isinstance(cameras, int):
        cameras = [
            Camera.objects.create(
                name=f"factory cam {n}.{c}", stream_url="demo.mp4", site=values["site"]
            )
            for c in range(cameras)
        ]
    deployment.cameras.add(*cameras)
    deployment.officers.add(*officers)
    return deployment


def make_alert(
    deployment: Deployment,
    *,
    subject: str | None = None,
    entry_id: int | None = None,
    distance: float = 0.41,
    crop: bytes | None = None,
    camera: Camera | None = None,
    frame_at: datetime | None = None,
    nudge: bool = True,
) -> Alert:
    """An alert raised as the stream side raises it, against the deployment's frozen
    watchlist (the entry is added to it if it is not there yet).

    Each call is a new subject (a fresh entry id) unless `entry_id` is given: repeated
    matches of one entry within LFR_SIGHTING_WINDOW_SECONDS are one alert's sightings.
    `nudge=False` commits the alert without its live nudge (a message the layer lost).
    """
    if entry_id is None:
        entry_id = 100_000 + next(_numbers)
    subject = subject or f"SUBJ-{entry_id}"
    snapshot, _ = DeploymentWatchlist.objects.get_or_create(
        deployment=deployment, defaults={"frozen_at": timezone.now()}
    )
    if entry_id not in snapshot.entry_ids:
        snapshot.entry_ids = [*snapshot.entry_ids, entry_id]
        snapshot.subject_references = [*snapshot.subject_references, subject]
        snapshot.save(update_fields=["entry_ids", "subject_references"])
    fields = dict(
        deployment=deployment,
        camera=camera or deployment.cameras.order_by("pk").first(),
        row_label=snapshot.entry_ids.index(entry_id),
        distance=distance,
        crop_jpeg=sample_jpeg() if crop is None else crop,
        track_id=f"t{next(_numbers)}",
        frame_at=frame_at or timezone.now(),
    )
    if nudge:
        return alert_raise(**fields)
    # The publish runs when alert_raise's transaction commits, inside this block.
    with mock.patch.object(alerts_service, "alert_publish", lambda *a, **k: None):
        return alert_raise(**fields)
