"""face_recognition's models must load, and a broken install must fail loudly.

face_recognition prints a hint and calls quit() (exit status 0) when its models cannot
be imported, which would make a broken run look green.
"""

import subprocess

import numpy as np
import pytest

from recognition.engine import ModelsUnavailable, face_api
from tests.helpers import PYTHON, ROOT, faces


def test_it_loads_the_models_and_encodes_a_real_face():
    fr = face_api()
    image = fr.load_image_file(faces("examples", "obama.jpg"))
    encodings = fr.face_encodings(image)
    assert len(encodings) == 1
    assert encodings[0].shape == (128,)
    assert np.isfinite(encodings[0]).all()


@pytest.mark.slow
def test_it_fails_loudly_when_pkg_resources_is_gone(tmp_path):
    # Simulate setuptools >= 82, where pkg_resources no longer exists.
    (tmp_path / "pkg_resources.py").write_text("raise ImportError('pkg_resources removed')\n")
    script = "from recognition.engine import face_api; face_api()"
    result = subprocess.run(
        [PYTHON, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "ModelsUnavailable" in result.stderr and "setuptools below 82" in result.stderr


def test_it_turns_quit_into_an_exception(monkeypatch):
    import builtins
    import sys

    face_api.cache_clear()
    monkeypatch.delitem(sys.modules, "face_recognition", raising=False)
    monkeypatch.delitem(sys.modules, "face_recognition.api", raising=False)
    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "face_recognition":
            raise SystemExit(0)  # what quit() raises
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", broken)
    try:
        with pytest.raises(ModelsUnavailable):
            face_api()
    finally:
        monkeypatch.undo()
        face_api.cache_clear()
