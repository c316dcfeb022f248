"""Lay out the sample 1:N set (recognition/data/identification_set.json) as links under OUT.

    python tools/identification_set.py OUT   # then:
    python manage.py evaluate_identification --gallery OUT/gallery --probes OUT/probes
"""

import json
import os
import sys
from pathlib import Path

SET = Path(__file__).resolve().parent.parent / "recognition" / "data" / "identification_set.json"


def assemble(data: Path, out: Path) -> Path:
    layout = json.loads(SET.read_text())
    for part in ("gallery", "probes"):
        for identity, files in layout[part].items():
            folder = out / part / identity
            folder.mkdir(parents=True, exist_ok=True)
            for name in files:
                link = folder / Path(name).name
                if not link.exists():
                    os.symlink((data / name).resolve(), link)
    return out


if __name__ == "__main__":
    data = Path(os.environ.get("LFR_DATA_DIR", "../shared/data")) / "faces"
    print(assemble(data, Path(sys.argv[1])))
