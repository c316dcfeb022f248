"""The assurance figures: each test that measures one writes it and checks the doc states it.

docs/ASSURANCE.md quotes each figure as the one line its test prints. A figure's line has
a deterministic part (counts that must not change without someone saying so: endpoints,
cases, failures, alerts lost) and may end in " | measured: ..." (times, rates of a loaded
machine). The test that measures a figure asserts the doc holds the deterministic part
verbatim, so a change in the code that moves a figure fails until the doc is updated;
the measured part is informational and is written, with the whole figure, to
artifacts/figures/<name>.json for CI to keep.
"""

import json

from tests.helpers import ARTIFACTS_DIR, ROOT

DOC = ROOT / "docs" / "ASSURANCE.md"
MEASURED = " | measured: "


def write_figure(name: str, data: dict) -> None:
    folder = ARTIFACTS_DIR / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def doc_lines() -> list[str]:
    return [line.strip() for line in DOC.read_text().splitlines()]


def check_doc(line: str) -> None:
    """Fail unless docs/ASSURANCE.md states this figure (its deterministic part)."""
    fixed = line.split(MEASURED)[0].strip()
    stated = [d.split(MEASURED)[0].strip() for d in doc_lines()]
    assert fixed in stated, (
        f"docs/ASSURANCE.md does not state this figure; put this line in its code block:\n{line}"
    )
