"""Issue 14, "hostile upload corpus": 36 kinds of hostile file, generated here, through
the API and the submit form: each is refused with its reason or stored only as our own
re-encoded JPEG (metadata, trailers and text gone). Peak memory is printed per case."""

import pytest
from django.core.management import call_command

from tests.figures import check_doc, write_figure
from tests.helpers import faces
from watchlists import corpus
from watchlists.models import ReferenceImage

# Heavy rather than slow to start: face detection on a dozen uploads and a 36 Mpx decode.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cases():
    return corpus.hostile_cases(faces("examples", "obama.jpg"))


@pytest.fixture
def outcomes(users, login, cases, capsys):
    found = corpus.run(login(users.contributor), cases)
    with capsys.disabled():
        print("\n" + corpus.table(found))
    return found



def test_the_corpus_has_at_least_30_kinds(cases):
    assert len({c.kind for c in cases}) >= 30
    assert {c.expect for c in cases} == {corpus.REFUSED, corpus.NEUTRALISED}


def test_every_hostile_upload_is_refused_or_neutralised(cases, outcomes, capsys):
    expect = {c.kind: c.expect for c in cases}
    wrong = []
    for o in outcomes:
        if expect[o.kind] == corpus.REFUSED and (o.status != 400 or "(no message)" in o.verdict):
            wrong.append(f"{o.kind} via {o.channel}: {o.status} {o.verdict}")
        if expect[o.kind] == corpus.NEUTRALISED:
            if o.entry_id is None:
                wrong.append(f"{o.kind} via {o.channel}: not stored ({o.status} {o.verdict})")
                continue
            for image in ReferenceImage.objects.filter(entry_id=o.entry_id):
                wrong += [
                    f"{o.kind} via {o.channel}: {p}" for p in corpus.stored_is_clean(image.jpeg)
                ]
    assert wrong == []
    assert len(outcomes) == 2 * len(cases)
    # The figure docs/ASSURANCE.md states (section 3), checked against what ran.
    line = corpus.summary(cases, outcomes)
    write_figure("upload_corpus", {"line": line, "table": corpus.table(outcomes)})
    with capsys.disabled():
        print(line)
    check_doc(line)


def test_the_command_prints_the_table_and_keeps_nothing(db, capsys):
    call_command("upload_corpus")
    out = capsys.readouterr().out
    assert "| 1 | zero-byte file | api | 400 |" in out
    assert "0 server errors" in out
    assert not ReferenceImage.objects.exists()
