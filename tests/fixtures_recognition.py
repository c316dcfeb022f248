"""Shared pytest fixtures for this area (registered in tests/conftest.py)."""

import functools
import itertools
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from deployments.models import Camera, Deployment, DeploymentWatchlist, Site
from tests.factories import make_deployment
from tests.helpers import faces, make_user

HAMILTON_CLIP = "faces/face_recognition/examples/short_hamilton_clip.mp4"
_numbers = itertools.count(1)


@functools.cache
def encoding_of(path: Path) -> bytes:
    """The float32 encoding (512 bytes) of the one face in a sample image."""
    from recognition.engine import face_api

    api = face_api()
    found = api.face_encodings(api.load_image_file(str(path)))
    assert len(found) == 1, f"expected one face in {path.name}"
    return np.asarray(found[0], dtype=np.float32).tobytes()


def watchlist_rows(*names: str) -> list[tuple[str, bytes]]:
    """(subject reference, encoding) per sample image name under examples/."""
    return [(Path(name).stem, encoding_of(faces("examples", name))) for name in names]


@pytest.fixture
def stream_deployment(db):
    """Make a live deployment with one camera and a frozen watchlist of sample faces.

    `rows` are (subject reference, encoding bytes); entry ids are 1001, 1002, ... per row.
    """

    def make(
        *,
        rows: list[tuple[str, bytes]],
        stream_url: str = HAMILTON_CLIP,
        loop: bool = False,
        threshold: float = 0.5,
        cameras: int = 1,
    ) -> Deployment:
        n = next(_numbers)
        site = Site.objects.create(name=f"Site {n}")
        now = timezone.now()
        deployment = make_deployment(
            reference=f"STR-{n}",
            site=site,
            cameras=[
                Camera.objects.create(
                    name=f"cam {n}.{c}", stream_url=stream_url, site=site, loop=loop
                )
                for c in range(cameras)
            ],
            threshold=threshold,
            requested_by=make_user(f"planner{n}"),
        )
        DeploymentWatchlist.objects.create(
            deployment=deployment,
            frozen_at=now,
            entry_ids=[1001 + i for i in range(len(rows))],
            subject_references=[ref for ref, _ in rows],
            encodings=b"".join(enc for _, enc in rows),
        )
        return deployment

    return make


# --- engine fixtures (recognition engine and benchmarks) ---------------------------------

SAMPLE_FACES = {
    "lin-manuel-miranda": "lin-manuel-miranda.png",
    "alex-lacamoire": "alex-lacamoire.png",
    "obama": "obama.jpg",
    "biden": "biden.jpg",
}


@pytest.fixture(scope="session")
def sample_encodings() -> dict[str, np.ndarray]:
    """Real (128,) float32 encodings by the engine's reference encoder, per sample subject.

    Keys: lin-manuel-miranda, alex-lacamoire, obama, biden (images under examples/).
    """
    from recognition.engine.faces import encode_reference

    return {name: encode_reference(faces("examples", file)) for name, file in SAMPLE_FACES.items()}


@pytest.fixture(scope="session")
def engine_watchlist(sample_encodings):
    """Build an engine Watchlist from sample subject names, labelled by those names."""
    from recognition.engine.pipeline import Watchlist

    def make(*names: str) -> "Watchlist":
        return Watchlist(np.stack([sample_encodings[n] for n in names]), list(names))

    return make


@pytest.fixture(scope="session")
def subject_folders(tmp_path_factory):
    """Build a bench_stream watchlist folder (one sub-folder per subject, symlinked images)."""

    def make(*names: str) -> Path:
        root = tmp_path_factory.mktemp("watchlist")
        for name in names:
            (root / name).mkdir()
            source = faces("examples", SAMPLE_FACES[name])
            (root / name / source.name).symlink_to(source)
        return root

    return make
