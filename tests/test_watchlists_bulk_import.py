"""Bulk import from the page: a ZIP of subject folders, run as a task, with a report."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEvent
from tests.helpers import data_path, make_user
from watchlists.models import ImportJob, WatchlistEntry
from watchlists.services import bulk

TRAIN = data_path("faces", "face_recognition", "examples", "knn_examples", "train")
FIELDS = {
    "category": "wanted",
    "legal_basis": "Warrants issued by the magistrates' court",
    "provenance": "Custody photographs",
    "case_reference": "OP-BULK",
}


def train_zip() -> bytes:
    """knn_examples/train as a ZIP, with its top folder, as a user would zip it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(TRAIN.rglob("*")):
            if path.is_file():
                archive.write(path, f"train/{path.relative_to(TRAIN)}")
    return buffer.getvalue()


def test_it_imports_each_subject_folder_as_one_pending_entry_with_a_report(users):
    job = bulk.import_job_create(
        by=users.contributor, archive=train_zip(), source_name="train.zip", fields=FIELDS
    )
    assert job.state == "queued" and job.total == len([p for p in TRAIN.rglob("*") if p.is_file()])
    assert bulk.import_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.state == "done" and job.percent == 100 and job.archive is None
    subjects = sorted({p.parent.name for p in TRAIN.rglob("*") if p.is_file()})
    entries = WatchlistEntry.objects.select_related("subject")
    assert sorted(e.subject.reference for e in entries) == subjects
    assert all(e.state == "pending" for e in entries)  # an import never approves
    assert {row["file"] for row in job.report} == {p.name for p in TRAIN.rglob("*") if p.is_file()}
    assert job.totals["subjects"] == len(subjects)
    assert AuditEvent.objects.filter(action="watchlist.import").get().details["source"] == (
        "train.zip"
    )
    assert bulk.import_job_run(job_id=job.pk) == "not queued"  # a second delivery does nothing


@pytest.mark.parametrize(
    "archive, message",
    [
        (b"not a zip", "not a ZIP"),
        (b"PK\x05\x06" + b"\x00" * 18, "no JPEG or PNG"),
    ],
)
def test_it_refuses_a_bad_archive_at_once(users, archive, message):
    with pytest.raises(ValidationError, match=message):
        bulk.import_job_create(
            by=users.contributor, archive=archive, source_name="x", fields=FIELDS
        )
    assert not ImportJob.objects.exists()


def test_it_refuses_an_archive_that_declares_too_much(users, monkeypatch):
    monkeypatch.setattr(bulk, "ZIP_MAX_TOTAL_BYTES", 1000)
    with pytest.raises(ValidationError, match="unpacks to more than"):
        bulk.import_job_create(
            by=users.contributor, archive=train_zip(), source_name="x", fields=FIELDS
        )


def test_it_lists_files_outside_subject_folders_as_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("loose.jpg", b"x")
        archive.writestr("s1/notes.txt", b"x")
        archive.writestr("__MACOSX/s1/._a.jpg", b"x")
    rows = {i.name: (i.outcome, i.detail) for i in bulk.items_from_zip(buffer.getvalue())}
    assert rows == {
        "loose.jpg": ("refused", "not inside one subject folder"),
        "s1/notes.txt": ("refused", "not a JPEG or PNG file"),
    }


def test_the_page_queues_the_import_and_reports_it(users, login):
    client = login(users.contributor)
    assert b'data-testid="import-form"' in client.get(reverse("watchlists:import")).content
    response = client.post(
        reverse("watchlists:import"),
        {**FIELDS, "archive": SimpleUploadedFile("train.zip", train_zip())},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("watchlists:import_job", args=[job.pk])
    status = client.get(response["Location"], {"format": "json"}).json()
    assert status["state"] == "queued" and status["percent"] == 0
    bulk.import_job_run(job_id=job.pk)  # what the worker does with the queued task
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-report"' in page and 'value="100"' in page


def test_several_photos_of_one_subject_are_one_entry(users, login):
    photos = [
        SimpleUploadedFile(p.name, p.read_bytes(), content_type="image/jpeg")
        for p in sorted((TRAIN / "biden").iterdir())
    ]
    client = login(users.contributor)
    client.post(
        reverse("watchlists:import"), {**FIELDS, "photos": photos, "subject_reference": "B-1"}
    )
    bulk.import_job_run(job_id=ImportJob.objects.get().pk)
    entry = WatchlistEntry.objects.get()
    assert entry.subject.reference == "B-1" and entry.images.count() == len(photos)


def test_nobody_reads_another_contributors_import(users, login):
    job = bulk.import_job_create(
        by=users.contributor, archive=train_zip(), source_name="train.zip", fields=FIELDS
    )
    other = make_user("contrib2", "watchlist_contributor")
    url = reverse("watchlists:import_job", args=[job.pk])
    assert login(other).get(url).status_code == 404
    assert login(users.manager).get(url).status_code == 404
