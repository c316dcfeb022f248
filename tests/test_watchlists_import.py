"""manage.py import_watchlist on the real knn_examples/train folders, run twice."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core import access
from core.models import AuditEvent
from tests.helpers import ARTIFACTS_DIR, faces, make_user
from watchlists.models import ReferenceImage, Subject, WatchlistEntry

TRAIN = faces("examples", "knn_examples", "train")
SUBJECTS = ["alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie"]


def run(*args) -> str:
    out = StringIO()
    call_command("import_watchlist", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def import_train(username="importer"):
    return run(
        str(TRAIN),
        "--as", username,
        "--category", "wanted",
        "--legal-basis", "Warrants on file",
        "--provenance", "face_recognition sample set",
    )  # fmt: skip


@pytest.mark.slow
def test_it_imports_each_subject_pending_then_reports_duplicates(db):
    make_user("importer", access.WATCHLIST_CONTRIBUTOR)
    first = import_train()
    assert sorted(Subject.objects.values_list("reference", flat=True)) == SUBJECTS
    assert WatchlistEntry.objects.count() == 5
    assert set(WatchlistEntry.objects.values_list("state", flat=True)) == {"pending"}
    assert set(WatchlistEntry.objects.values_list("submitted_by__username", flat=True)) == {
        "importer"
    }
    assert ReferenceImage.objects.count() == 9  # every file in train/ is a clear single face
    for subject in SUBJECTS:
        assert subject in first
    assert "9 files: 9 added to 5 pending entries, 0 duplicates, 0 refused" in first

    second = import_train()
    assert WatchlistEntry.objects.count() == 5 and ReferenceImage.objects.count() == 9
    assert "9 files: 0 added to 0 pending entries, 9 duplicates, 0 refused" in second
    assert second.count("duplicate") >= 9
    runs = AuditEvent.objects.filter(action="watchlist.import").order_by("seq")
    assert [e.details["added"] for e in runs] == [9, 0]
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS_DIR / "import_watchlist_runs.txt").write_text(
        "$ manage.py import_watchlist .../knn_examples/train --category wanted (run 1)\n"
        + first
        + "\n$ same again (run 2)\n"
        + second
    )


def test_it_refuses_a_user_without_the_contributor_role(db):
    make_user("mgr", access.WATCHLIST_MANAGER)
    with pytest.raises(CommandError, match="contributor role"):
        import_train("mgr")
    assert not Subject.objects.exists()


def test_it_needs_the_fields_for_a_folder_import(db):
    make_user("importer", access.WATCHLIST_CONTRIBUTOR)
    with pytest.raises(CommandError, match="--legal-basis"):
        run(str(TRAIN), "--as", "importer", "--category", "wanted", "--provenance", "x")


def test_it_imports_from_a_manifest_and_reports_refusals(db, tmp_path):
    make_user("importer", access.WATCHLIST_CONTRIBUTOR)
    manifest = tmp_path / "list.csv"
    two = faces("examples", "two_people.jpg")
    one = faces("examples", "obama_small.jpg")
    manifest.write_text(
        "path,subject_reference,display_name,date_of_birth,category,legal_basis,provenance\n"
        f"{two},S-2,Two People,,suspect,PACE,CCTV\n"
        f"{one},S-1,Barack Obama,2012-05-01,missing,Missing person report,Family photo\n"
    )
    out = run(str(manifest), "--as", "importer")
    assert "multiple_faces" in out and "S-2" in out
    entry = WatchlistEntry.objects.get()
    assert entry.subject.reference == "S-1" and entry.category == "missing"
    assert entry.subject.is_under_18 and entry.state == "pending"
