"""``--background MODE``: everything but the people is hidden, on a synthetic scene whose
background is a known pattern and whose person is a real portrait pasted on it (video:
tests/video/test_background_video.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from fastredact.cli import main
from fastredact.run import read_manifest
from tests.support import shared_file

PASTE = (420, 260, 820, 804)  # x0, y0, x1, y1 of the portrait on the canvas


def _scene(shared_data: Path, path: Path) -> np.ndarray:
    yy, xx = np.mgrid[0:1000, 0:1300]
    canvas = np.where(((xx // 16 + yy // 16) % 2)[:, :, None] == 1, [30, 160, 90], [220, 200, 40])
    canvas = canvas.astype(np.uint8)
    portrait = Image.open(shared_file(shared_data, "redact-client/obama.jpeg")).convert("RGB")
    x0, y0, x1, y1 = PASTE
    canvas[y0:y1, x0:x1] = np.asarray(portrait.resize((x1 - x0, y1 - y0)))
    Image.fromarray(canvas).save(path)
    return canvas


def test_only_the_people_are_left(shared_data: Path, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    original = _scene(shared_data, tmp_path / "in" / "scene.png").astype(np.int16)
    manifest = tmp_path / "m.jsonl"
    code = main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
                 "--manifest", str(manifest), "--background", "fill", "--no-plates",
                 "--no-progress"])  # fmt: skip
    assert code == 0
    (row,) = read_manifest(manifest)
    kept = row["background_kept"]
    assert len(kept) >= 1
    box = np.array(kept[0], np.float64)
    paste = np.array(PASTE, np.float64)
    overlap = np.minimum(box[2:], paste[2:]) - np.maximum(box[:2], paste[:2])
    inter = np.prod(np.clip(overlap, 0, None))
    assert inter / np.prod(paste[2:] - paste[:2]) > 0.8, (kept, PASTE)

    out = np.asarray(Image.open(tmp_path / "out" / "scene.png").convert("RGB")).astype(np.int16)
    keep = np.zeros(out.shape[:2], bool)
    for x0, y0, x1, y1 in kept:
        keep[y0:y1, x0:x1] = True
    background = out[~keep]
    assert (background == background[0]).all(), "the background is one fill colour"
    assert not (original[~keep] == background[0]).all(axis=1).mean() > 0.5
    faces = [d["box"] for d in row["detections"] if d["label"] == "face"]
    assert faces, "the face is still hidden on top"
    hidden_face = np.zeros(out.shape[:2], bool)
    for x0, y0, x1, y1 in faces:  # the mask reaches 1.45x the box
        cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * 0.75, (y1 - y0) * 0.75
        hidden_face[int(cy - hh) : int(cy + hh) + 2, int(cx - hw) : int(cx + hw) + 2] = True
    person = keep & ~hidden_face
    assert np.array_equal(out[person], original[person]), "the person's pixels are untouched"
    fx0, fy0, fx1, fy1 = (int(v) for v in faces[0])
    assert np.abs(out[fy0:fy1, fx0:fx1] - original[fy0:fy1, fx0:fx1]).mean() > 8
