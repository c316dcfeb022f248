"""Assemble the largest 1:N labelled set the sample data allows, as links under OUT.

    python tools/identification_set.py OUT   # then:
    python manage.py evaluate_identification --gallery OUT/gallery --probes OUT/probes

One image of each of 7 people is the gallery (the watchlist); their other images are
mated probes, and the 3 people with no gallery image are non-mated probes. Byte-identical
copies (the sample set repeats obama.jpg, biden.jpg) are used once; photos of two people
(obama_and_biden, kit_with_rose, two_people, longoria-cooper) are left out because the
largest face in them is not a label.
"""

import os
import sys
from pathlib import Path

FR = "face_recognition/examples"
KNN = f"{FR}/knn_examples"
TESTS = "face_recognition/tests/test_images"
OF = "openface/images/examples"
GALLERY = {
    "alex_lacamoire": [f"{KNN}/train/alex_lacamoire/img1.jpg"],
    "biden": [f"{KNN}/train/biden/biden.jpg"],
    "kit_harington": [f"{KNN}/train/kit_harington/john1.jpeg"],
    "obama": [f"{KNN}/train/obama/obama.jpg"],
    "rose_leslie": [f"{KNN}/train/rose_leslie/img1.jpg"],
    "lennon": [f"{OF}/lennon-1.jpg"],
    "clapton": [f"{OF}/clapton-1.jpg"],
}
PROBES = {
    "alex_lacamoire": [f"{KNN}/test/alex_lacamoire1.jpg", f"{FR}/alex-lacamoire.png"],
    "biden": [f"{KNN}/train/biden/biden2.jpg"],
    "kit_harington": [f"{KNN}/train/kit_harington/john2.jpeg", f"{KNN}/test/johnsnow_test1.jpg"],
    "obama": [
        f"{KNN}/train/obama/obama2.jpg",
        f"{KNN}/test/obama1.jpg",
        f"{FR}/obama_small.jpg",
        f"{FR}/obama-240p.jpg",
        f"{FR}/obama-480p.jpg",
        f"{FR}/obama-720p.jpg",
        f"{FR}/obama-1080p.jpg",
        f"{TESTS}/obama3.jpg",
        f"{TESTS}/obama_partial_face.jpg",
        f"{TESTS}/obama_partial_face2.jpg",
        f"{TESTS}/32bit.png",
    ],
    "rose_leslie": [f"{KNN}/train/rose_leslie/img2.jpg"],
    "lennon": [f"{OF}/lennon-2.jpg"],
    "clapton": [f"{OF}/clapton-2.jpg"],
    # Not in the gallery: non-mated searches (passers-by).
    "lin_manuel_miranda": [f"{FR}/lin-manuel-miranda.png"],
    "adams": [f"{OF}/adams.jpg"],
    "carell": [f"{OF}/carell.jpg"],
}


def assemble(data: Path, out: Path) -> Path:
    for part, folders in (("gallery", GALLERY), ("probes", PROBES)):
        for identity, files in folders.items():
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
