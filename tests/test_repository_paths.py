"""The checkout is self-contained: no tracked file names an absolute path of one machine.

A test that wrote to such a path passed only where that folder happened to exist (issue 21:
two browser tests failed on a fresh machine); artefacts go under LFR_ARTIFACTS_DIR instead.
"""

import re
import subprocess

from tests.helpers import ROOT

MACHINE_PATH = re.compile(r"(?<![\w.])/(?:(?:work|root|home/\w+|Users/\w+|tmp)/|nonexistent\b)")


def tracked_text_files():
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, names):
        path = ROOT / name.decode()
        try:
            yield name.decode(), path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue


def test_it_finds_no_absolute_machine_path_in_the_repository():
    found = [
        f"{name}:{number}: {line.strip()}"
        for name, text in tracked_text_files()
        for number, line in enumerate(text.splitlines(), 1)
        if MACHINE_PATH.search(line)
    ]
    assert found == []


def test_it_recognises_a_machine_path():
    assert MACHINE_PATH.search('SHOTS = Path("' + "/work" + '/notes/shots")')
    assert MACHINE_PATH.search('file_root=Path("/' + 'nonexistent")')
    assert not MACHINE_PATH.search("artifacts/screenshots/x.png")
