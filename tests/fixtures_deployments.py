"""Shared pytest fixtures for this area (registered in tests/conftest.py)."""

import itertools
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

_counter = itertools.count(1)


def random_encoding(seed: int) -> bytes:
    """A random unit vector: fine where only freezing logic matters, not matching."""
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return (v / np.linalg.norm(v)).astype(np.float32).tobytes()


def make_entry(by, approver, *, category="wanted", encodings=None, dob=None, state="approved"):
    """An entry written straight to the watchlists models (as the watchlists app would)."""
    from watchlists.models import ReferenceImage, Subject, WatchlistEntry

    n = next(_counter)
    subject = Subject.objects.create(
        reference=f"SUBJ-{n:05d}", display_name=f"Person {n}", date_of_birth=dob, created_by=by
    )
    entry = WatchlistEntry.objects.create(
        subject=subject,
        category=category,
        legal_basis="PACE s.64",
        case_reference=f"CASE-{n}",
        provenance="custody image",
        state=state,
        submitted_by=by,
        decided_by=approver,
        decided_at=timezone.now(),
    )
    for enc in encodings if encodings is not None else [random_encoding(n)]:
        ReferenceImage.objects.create(
            entry=entry,
            jpeg=b"x",
            encoding=enc,
            pixel_sha256=f"{n:064d}",
            width=100,
            height=100,
            face_px=90,
            sharpness=100.0,
            pose_score=0.0,
        )
    return entry


@pytest.fixture
def dep_site(db):
    from deployments.models import Camera, Site

    site = Site.objects.create(name="Oxford Circus", address="Oxford Street, London")
    Camera.objects.create(name="cam-north", stream_url="rtsp://10.0.0.1/north", site=site)
    Camera.objects.create(name="cam-south", stream_url="rtsp://10.0.0.2/south", site=site)
    return site


@pytest.fixture
def next_monday():
    """10:00 local next Monday: all of a test's deployments fall in one ISO week."""
    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    return timezone.make_aware(timezone.datetime.combine(monday, timezone.datetime.min.time()))


@pytest.fixture
def plan(dep_site, next_monday):
    """A valid plan; override any field: plan(starts_at=..., cameras=[...])."""

    def _plan(**overrides):
        starts = overrides.pop("starts_at", next_monday + timedelta(hours=10))
        values = {
            "use_case": "crime_hotspot",
            "site": dep_site,
            "cameras": list(dep_site.cameras.all()),
            "starts_at": starts,
            "ends_at": overrides.pop("ends_at", starts + timedelta(hours=4)),
            "necessity": "Knife crime has risen 40 % here.",
            "proportionality": "Four hours, two cameras, wanted persons only.",
            "location_rationale": "Most offences were within 200 m.",
            "watchlist_categories": ["wanted"],
            "max_watchlist_size": 100,
            "threshold": 0.5,
            "dpia_reference": "DPIA-2026-01",
            "policy_reference": "APD-2026-01",
            "equality_reference": "EIA-2026-01",
            "public_notice": True,
        }
        values.update(overrides)
        return values

    return _plan


@pytest.fixture
def deployment_in_state(users, plan):
    """Create a deployment via the services and take it to `state`."""
    from deployments import services

    def _make(state="draft", by=None, authoriser=None, **overrides):
        by = by or users.command
        values = plan(**overrides)
        cameras = values.pop("cameras")
        d = services.deployment_create(by=by, cameras=cameras, **values)
        if state == "draft":
            return d
        d = services.deployment_submit(deployment=d, by=by)
        if state == "submitted":
            return d
        # Tests that set a notice lead plan inside it: the authoriser says why.
        d = services.deployment_authorise(
            deployment=d, by=authoriser or users.authoriser, short_notice_reason="test plan"
        )
        if state == "authorised":
            return d
        services.lifecycle_tick(now=d.starts_at + timedelta(seconds=1))
        d.refresh_from_db()
        if state == "live":
            return d
        services.lifecycle_tick(now=d.ends_at + timedelta(seconds=1))
        d.refresh_from_db()
        return d

    return _make
