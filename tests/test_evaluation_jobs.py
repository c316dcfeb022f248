"""Evaluations started from the accuracy page: an uploaded ZIP of images and pairs.csv,
run by a worker with progress, stored as an EvaluationRun; the upload deleted after."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEvent
from recognition.models import EvaluationJob, EvaluationRun
from recognition.services import evaluation
from tests.helpers import faces

PAIRS = (
    "a,b,same\nobama/1.jpg,obama/2.jpg,yes\nobama/1.jpg,biden.jpg,no\nobama/2.jpg,biden.jpg,no\n"
)


def pairs_zip(files: dict | None = None, pairs: str | None = PAIRS) -> bytes:
    """Three real faces (two of one person) and the pairs over them."""
    if files is None:
        files = {
            "obama/1.jpg": faces("examples", "obama.jpg").read_bytes(),
            "obama/2.jpg": faces("examples", "obama2.jpg").read_bytes(),
            "biden.jpg": faces("examples", "biden.jpg").read_bytes(),
        }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        if pairs is not None:
            archive.writestr("pairs.csv", pairs)
    return out.getvalue()


def test_it_runs_an_uploaded_set_and_stores_the_run_then_deletes_the_upload(users):
    job = evaluation.evaluation_job_create(
        by=users.oversight, archive=pairs_zip(), source_name="three.zip"
    )
    assert (job.state, job.pairs, job.total) == ("queued", 3, 3)
    assert evaluation.evaluation_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert (job.state, job.processed, job.percent, job.archive) == ("done", 3, 100, None)
    run = EvaluationRun.objects.get()
    assert job.run == run and run.pairs == 3 and run.no_face == []
    assert "three.zip" in run.dataset and "1 same-person and 2 different-person" in run.dataset
    # Obama's two photos are close, Biden is far from both: at the operating point, a clean split.
    assert run.operating_point["tpr"] == 1.0 and run.operating_point["fpr"] == 0.0
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"evaluation.queued", "evaluation.record", "evaluation.done"} <= actions
    assert evaluation.evaluation_job_run(job_id=job.pk) == "not queued"  # a second delivery


@pytest.mark.parametrize(
    "archive, message",
    [
        (b"not a zip", "not a ZIP archive"),
        (pairs_zip(pairs=None), "no pairs.csv"),
        (pairs_zip(files={"notes.txt": b"x"}, pairs="a,b,same\n"), "Unknown file notes.txt"),
        (pairs_zip(pairs="x,y,same\n"), "lacks column(s) a, b"),
        (pairs_zip(pairs="a,b,same\nobama/1.jpg,biden.jpg,maybe\n"), "line 2: same must be"),
        (pairs_zip(pairs="a,b,same\nobama/1.jpg,nobody.jpg,no\n"), "no image 'nobody.jpg'"),
        (pairs_zip(pairs="a,b,same\n"), "holds no pairs"),
    ],
)
def test_it_refuses_an_unusable_upload_at_once_saying_why(users, archive, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluation.evaluation_job_create(by=users.oversight, archive=archive, source_name="x")
    assert not EvaluationJob.objects.exists()


def test_it_refuses_too_many_pairs(users, monkeypatch):
    monkeypatch.setattr(evaluation, "MAX_PAIRS", 2)
    with pytest.raises(ValidationError, match="more than 2 pairs"):
        evaluation.evaluation_job_create(by=users.admin, archive=pairs_zip(), source_name="x")


def test_the_page_queues_the_run_shows_progress_and_links_the_run(users, login, client):
    login(users.oversight)
    page = client.get(reverse("oversight:accuracy"))
    assert reverse("oversight:evaluation_start") in page.content.decode()  # the empty state
    upload = SimpleUploadedFile("three.zip", pairs_zip(), content_type="application/zip")
    response = client.post(reverse("oversight:evaluation_start"), {"archive": upload})
    job = EvaluationJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "oversight:evaluation_job", kwargs={"job_id": job.pk}
    )
    status = client.get(response.url + "?format=json").json()
    assert (status["state"], status["percent"], status["total"]) == ("queued", 0, 3)
    evaluation.evaluation_job_run(job_id=job.pk)  # what the worker does with the queued task
    job.refresh_from_db()
    page = client.get(response.url).content.decode()
    assert f"evaluation run #{job.run_id}" in page
    assert client.get(response.url + "?format=json").json()["run"] == job.run_id


def test_the_page_says_why_an_upload_is_refused(users, login, client):
    login(users.admin)
    upload = SimpleUploadedFile("bad.zip", b"not a zip", content_type="application/zip")
    response = client.post(reverse("oversight:evaluation_start"), {"archive": upload})
    assert response.status_code == 400 and "not a ZIP archive" in response.content.decode()


@pytest.mark.parametrize("who", ["command", "officer", "contributor", "manager", "nobody"])
def test_only_oversight_and_administrators_start_or_follow_evaluations(users, login, client, who):
    job = evaluation.evaluation_job_create(by=users.oversight, archive=pairs_zip(), source_name="x")
    login(getattr(users, who))
    assert client.get(reverse("oversight:evaluation_start")).status_code in (403, 404)
    url = reverse("oversight:evaluation_job", kwargs={"job_id": job.pk})
    assert client.get(url).status_code in (403, 404)
    assert "evaluation_start" not in client.get(reverse("oversight:accuracy")).content.decode()


@pytest.mark.parametrize("who", ["oversight", "admin"])
def test_oversight_and_administrators_may(users, login, client, who):
    login(getattr(users, who))
    assert client.get(reverse("oversight:evaluation_start")).status_code == 200
