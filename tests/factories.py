"""The tests' one deployment factory and one alert factory.

`make_deployment(**overrides)` writes a deployment row directly (no services: the tests
that exercise the planning rules go through `services` themselves); any model field can
be overridden, plus `officers` and `cameras` (the cameras, or how many to make at its site).
`make_alert` goes through `recognition.services.alerts.alert_raise`, the real service, so
an alert made here has its sequence number, its audit row and its publish after commit.
"""

import itertools
from datetime import datetime, timedelta

from django.utils import timezone

from deployments.models import Camera, Deployment, DeploymentWatchlist, Site
from recognition.models import Alert
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
    subject: str = "SUBJ-1",
    entry_id: int = 1,
    distance: float = 0.41,
    crop: bytes | None = None,
    camera: Camera | None = None,
    frame_at: datetime | None = None,
) -> Alert:
    """An alert raised as the stream side raises it, against the deployment's frozen
    watchlist (made with this one subject if the deployment has none yet)."""
    snapshot, _ = DeploymentWatchlist.objects.get_or_create(
        deployment=deployment, defaults={"frozen_at": timezone.now()}
    )
    if entry_id not in snapshot.entry_ids:
        snapshot.entry_ids = [*snapshot.entry_ids, entry_id]
        snapshot.subject_references = [*snapshot.subject_references, subject]
        snapshot.save(update_fields=["entry_ids", "subject_references"])
    row_label = snapshot.entry_ids.index(entry_id)
    return alert_raise(
        deployment=deployment,
        camera=camera or deployment.cameras.first(),
        row_label=row_label,
        distance=distance,
        crop_jpeg=sample_jpeg() if crop is None else crop,
        track_id=f"t{next(_numbers)}",
        frame_at=frame_at or timezone.now(),
    )
