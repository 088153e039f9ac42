"""``fastredact redact`` hides every readable plate of three real photos (issue 8).

The plate boxes were annotated by hand (the same boxes as ``tests/test_platenet.py``). The
command runs as a user runs it (a subprocess, default options: faces and plates, blur); a
plate counts as hidden when, in the output, the plate's central part (where its characters
are) has lost at least 90 % of its detail (variance of the Laplacian, measured against the
input) and the whole plate box at least 75 %.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from fastredact.run import read_manifest
from tests.support import shared_file
from tests.support.plates import HAND_ANNOTATED

Box = tuple[int, int, int, int]


def _gray(path: Path) -> NDArray[np.float32]:
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _detail(gray: NDArray[np.float32], box: Box) -> float:
    x0, y0, x1, y1 = box
    return float(cv2.Laplacian(gray[y0:y1, x0:x1], cv2.CV_32F).var())


def _centre(box: Box, keep: float = 0.6) -> Box:
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * (1 - keep) / 2, (y1 - y0) * (1 - keep) / 2
    return (round(x0 + dx), round(y0 + dy), round(x1 - dx), round(y1 - dy))


@pytest.fixture(scope="module")
def redacted(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plates")
    (root / "in").mkdir()
    for relative in HAND_ANNOTATED:
        shutil.copyfile(shared_file(shared_data, relative), root / "in" / Path(relative).name)
    command = ["redact", str(root / "in"), "-o", str(root / "out"), "--no-progress"]
    command += ["--manifest", str(root / "manifest.jsonl")]
    done = subprocess.run(
        [sys.executable, "-m", "fastredact", *command],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.parametrize(
    ("relative", "plate"),
    [(name, plate) for name, plates in sorted(HAND_ANNOTATED.items()) for plate in plates],
)
def test_every_hand_annotated_plate_is_hidden(redacted: Path, relative: str, plate: Box) -> None:
    name = Path(relative).name
    before, after = _gray(redacted / "in" / name), _gray(redacted / "out" / name)
    assert before.shape == after.shape
    centre = _centre(plate)
    kept_centre = _detail(after, centre) / _detail(before, centre)
    kept_box = _detail(after, plate) / _detail(before, plate)
    assert kept_centre <= 0.1, f"{name} plate {plate}: {kept_centre:.0%} of its detail left"
    assert kept_box <= 0.25, f"{name} plate {plate}: {kept_box:.0%} of the box's detail left"


def test_manifest_reports_a_plate_over_each_annotation(redacted: Path) -> None:
    rows = {row["path"]: row for row in read_manifest(redacted / "manifest.jsonl")}
    for relative, plates in HAND_ANNOTATED.items():
        row = rows[Path(relative).name]
        assert row["status"] == "ok"
        found = [d["box"] for d in row["detections"] if d["label"] == "plate"]
        for x0, y0, x1, y1 in plates:
            centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
            assert any(b[0] <= centre_x <= b[2] and b[1] <= centre_y <= b[3] for b in found), (
                f"no plate box over {(x0, y0, x1, y1)} in {relative}: {found}"
            )
