"""Sites and cameras: registering them, and what a moved camera does to the plans that use it."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.services import audit_record
from deployments.models import Camera, Deployment, Site
from deployments.services.snapshot import _snapshot_discard
from deployments.services.states import State, _transition
from recognition.engine import netguard
from recognition.engine.sources import SourceError, check_source, redact


def camera_policy() -> netguard.Policy:
    """Where cameras may be, from the settings (LFR_CAMERA_ALLOWED_NETWORKS, _ALLOW_LOOPBACK):
    what every check and connection of a camera is given."""
    return netguard.policy_from(
        allowed_networks=settings.LFR_CAMERA_ALLOWED_NETWORKS,
        allow_loopback=settings.LFR_CAMERA_ALLOW_LOOPBACK,
    )


def camera_validate_stream_url(url: str) -> str:
    """The URL as given, if the engine's source rule (`check_source`) accepts it and, for a
    network stream, its host is one cameras may use (`netguard`: no loopback, metadata
    or other internal addresses, in any spelling; checked again on the resolved
    addresses whenever a worker connects)."""
    url = (url or "").strip()
    try:
        if check_source(url, file_root=Path(settings.LFR_CAMERA_FILE_ROOT)) is None:
            netguard.check_url(url, camera_policy())
    except SourceError as exc:
        raise ValidationError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    except netguard.AddressRefused as exc:
        raise ValidationError(f"Cameras may not use this URL: {exc}.") from None
    return url


@transaction.atomic
def site_create(*, by, name: str, address: str = "", latitude=None, longitude=None) -> Site:
    name = (name or "").strip()
    if not name:
        raise ValidationError("A site needs a name.")
    if Site.objects.filter(name__iexact=name).exists():
        raise ValidationError(f"A site called {name!r} exists already.")
    for label, value, limit in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if value is not None and not -limit <= value <= limit:
            raise ValidationError(f"The {label} must be between -{limit} and {limit} degrees.")
    site = Site.objects.create(name=name, address=address, latitude=latitude, longitude=longitude)
    audit_record(actor=by, action="site.create", obj=site, details={"name": name})
    return site


@transaction.atomic
def camera_create(
    *, by, name: str, stream_url: str, site: Site, enabled: bool = True, loop: bool = False
) -> Camera:
    name = (name or "").strip()
    if not name:
        raise ValidationError("A camera needs a name.")
    if Camera.objects.filter(name__iexact=name).exists():
        raise ValidationError(f"A camera called {name!r} exists already.")
    stream_url = camera_validate_stream_url(stream_url)
    camera = Camera.objects.create(
        name=name, stream_url=stream_url, site=site, enabled=enabled, loop=loop
    )
    audit_record(
        actor=by,
        action="camera.create",
        obj=camera,
        details={"name": name, "site_id": site.pk, "enabled": enabled},
    )
    return camera


@transaction.atomic
def camera_update(
    *, camera: Camera, by, name: str, stream_url: str, site: Site, enabled: bool, loop: bool
) -> Camera:
    name = (name or "").strip()
    if not name:
        raise ValidationError("A camera needs a name.")
    if Camera.objects.filter(name__iexact=name).exclude(pk=camera.pk).exists():
        raise ValidationError(f"A camera called {name!r} exists already.")
    stream_url = camera_validate_stream_url(stream_url)
    camera = Camera.objects.select_for_update().get(pk=camera.pk)
    old_url, old_site_id = camera.stream_url, camera.site_id
    moved = stream_url != old_url or site.pk != old_site_id
    reauthorise = _camera_moved(camera=camera, by=by) if moved else []
    camera.stream_url = stream_url
    camera.name, camera.site, camera.enabled, camera.loop = name, site, enabled, loop
    camera.save()
    details = {"name": name, "site_id": site.pk, "enabled": enabled}
    if moved:
        details.update(
            old_site_id=old_site_id,
            old_stream_url=redact(old_url),
            new_stream_url=redact(stream_url),
            reauthorise=reauthorise,
        )
    audit_record(actor=by, action="camera.update", obj=camera, details=details)
    return camera


def _camera_moved(*, camera: Camera, by) -> list[str]:
    """A camera now looks somewhere else: what was authorised is no longer what would run.
    Refused while one of its deployments is live; an authorised one goes back to
    `submitted` (losing its frozen watchlist), and a submitted one is touched so an
    authoriser's open screen is out of date. Returns the references sent back."""
    deployments = Deployment.objects.select_for_update().filter(
        cameras=camera, state__in=(State.SUBMITTED, State.AUTHORISED, State.LIVE)
    )
    live = [d.reference for d in deployments if d.state == State.LIVE]
    if live:
        raise ValidationError(
            f"Camera {camera.name!r} is in live deployment {', '.join(live)}: stop it before "
            "changing the camera's stream or site."
        )
    sent_back = []
    now = timezone.now()
    for d in deployments:
        if d.state == State.AUTHORISED:
            _transition(d, State.SUBMITTED, now=now, authorised_by=None, authorised_at=None)
            _snapshot_discard(deployment=d, by=by, why="camera changed after authorisation")
            audit_record(
                actor=by,
                action="deployment.update",
                obj=d,
                details={
                    "changed": ["camera"],
                    "camera_id": camera.pk,
                    "from_state": State.AUTHORISED,
                    "to_state": d.state,
                },
            )
            sent_back.append(d.reference)
        else:
            Deployment.objects.filter(pk=d.pk).update(updated_at=now)
    return sent_back
