"""1:N evaluations from the accuracy page (a ZIP of gallery/ and probes/), the page showing
them, and the demo's sample run."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from recognition.models import EvaluationRun
from recognition.services import evaluation
from tests.helpers import data_path, faces


def identification_zip(extra: dict | None = None) -> bytes:
    """Obama and Biden on the watchlist; another Obama photo and Lennon searched."""
    files = {
        "set/gallery/obama/a.jpg": faces("examples", "obama.jpg").read_bytes(),
        "set/gallery/biden/a.jpg": faces("examples", "biden.jpg").read_bytes(),
        "set/probes/obama/b.jpg": faces(
            "examples", "knn_examples", "test", "obama1.jpg"
        ).read_bytes(),
        "set/probes/lennon/a.jpg": data_path(
            "faces", "openface", "images", "examples", "lennon-1.jpg"
        ).read_bytes(),
        **(extra or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_it_runs_an_uploaded_1_to_n_set_and_stores_the_run(users):
    job = evaluation.evaluation_job_create(
        by=users.oversight, archive=identification_zip(), source_name="watchlist.zip"
    )
    assert (job.pairs, job.total) == (2, 4)  # 2 searches over 4 images
    assert evaluation.evaluation_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    run = EvaluationRun.objects.get()
    assert job.run == run and job.processed == 4 and run.kind == "identification"
    assert (run.summary["mated"], run.summary["non_mated"], run.summary["comparisons"]) == (1, 1, 3)
    assert "watchlist.zip" in run.dataset and "1 mated and 1 non-mated" in run.dataset
    assert {"threshold", "tpir", "fpir", "mated", "non_mated"} <= set(run.operating_point)


def test_it_refuses_a_1_to_n_upload_with_a_stray_file(users):
    archive = identification_zip({"set/probes/notes.txt": b"x"})
    with pytest.raises(ValidationError, match="Unknown file set/probes/notes.txt"):
        evaluation.evaluation_job_create(by=users.oversight, archive=archive, source_name="x")


@pytest.fixture
def sample_run(db):
    """The demo's sample 1:N run, stored the way `seed_demo_data` stores it."""
    from recognition.management.commands.seed_demo_data import Command

    Command()._evaluation()
    return EvaluationRun.objects.get(kind="identification")


def test_it_seeds_one_sample_run_once(sample_run):
    from recognition.management.commands.seed_demo_data import Command

    Command()._evaluation()
    assert EvaluationRun.objects.count() == 1
    assert sample_run.summary["identities"] == 7 and sample_run.summary["non_mated"] == 3


def test_it_shows_a_1_to_n_run_on_the_accuracy_page(sample_run, login, users):
    client = login(users.oversight)
    page = client.get(reverse("oversight:accuracy")).content.decode()
    assert "Dataset (open-set 1:N identification)" in page
    assert "19 mated searches" in page and "3 non-mated searches" in page
    assert "FPIR ≤ at 100" in page and "Clopper-Pearson" in page
    response = client.get(reverse("oversight:accuracy") + "?format=csv")
    csv = b"".join(response.streaming_content).decode()
    assert csv.splitlines()[0].startswith("threshold,tpir,wrong_identity_alerts")


def test_it_gives_a_1_to_n_run_through_the_api(sample_run, login, users):
    body = login(users.oversight).get(f"/api/v1/oversight/reports/accuracy/{sample_run.pk}/").json()
    assert body["run"]["kind"] == "identification" and body["summary"]["comparisons"] == 135
