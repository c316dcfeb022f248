"""The import directions written in docs/ARCHITECTURE.md, read from the source.

Every `import`, `from … import` (module level or inside a function) and every
`apps.get_model("app", …)` string counts, so a dependency cannot hide from this test.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("core", "watchlists", "deployments", "recognition", "oversight", "lfr_site")
# deployments' only reads of recognition, each for a rule recognition owns.
DEPLOYMENTS_MAY_USE = {
    ("deployments/selectors.py", "recognition.selectors"),  # alert_figures: decisions in force
    ("deployments/services/lifecycle.py", "recognition.services.retention"),  # urgent lapse purge
}
TRANSPORT = ("views", "api", "admin")


def _sources(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _imports(path: Path) -> set[str]:
    """Modules the file imports, and "<app>.models" for each apps.get_model("<app>", …)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "get_model"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value.split(".")[0] + ".models")
    return found


def _reaching(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """Imports of `forbidden` apps by `package`; the engine (plain Python) is anyone's."""
    return sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in _sources(package)
        for name in _imports(path)
        if name.split(".")[0] in forbidden and not name.startswith("recognition.engine")
    )


def test_the_engine_imports_no_django_and_nothing_of_ours():
    # The engine's own modules are recognition.engine.*: everything else of ours is out.
    assert _reaching("recognition/engine", ("django", "rest_framework", "channels", *OURS)) == []


def test_watchlists_imports_neither_deployments_nor_recognition():
    assert _reaching("watchlists", ("deployments", "recognition")) == []


def test_no_app_imports_oversight():
    others = ("core", "watchlists", "deployments", "recognition", "lfr_site")
    assert [hit for app in others for hit in _reaching(app, ("oversight",))] == []


def test_deployments_reaches_recognition_only_where_documented():
    def allowed(path, name):
        return any(
            path == p and (name == m or name.startswith(f"{m}.")) for p, m in DEPLOYMENTS_MAY_USE
        )

    undocumented = sorted(
        f"{rel}: {name}"
        for path in _sources("deployments")
        for rel in [str(path.relative_to(ROOT))]
        for name in _imports(path)
        if name.split(".")[0] == "recognition"
        and not name.startswith("recognition.engine")  # plain Python, no Django
        and not allowed(rel, name)
    )
    assert undocumented == []


@pytest.mark.parametrize("app", ["core", "watchlists", "deployments", "recognition", "oversight"])
def test_transport_layers_do_not_import_each_other(app):
    layers = [ROOT / app / f"{name}.py" for name in TRANSPORT]
    crossing = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in layers
        if path.exists()
        for name in _imports(path)
        if any(
            name == f"{app}.{other}" or name.startswith(f"{app}.{other}.")
            for other in TRANSPORT
            if other != path.stem
        )
    )
    assert crossing == []


def test_the_contract_sees_function_level_imports_and_get_model(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from django.apps import apps\n"
        "def f():\n"
        "    from recognition.views import decide\n"
        "    return apps.get_model('recognition', 'Alert')\n"
    )
    assert {"recognition.views", "recognition.models"} <= _imports(probe)
