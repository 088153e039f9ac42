"""``--background MODE`` on video: every frame is hidden but the people seen on it.

The clip is a synthetic scene whose background is a known pattern (a checkerboard) and whose
person is a real portrait pasted on it, moving; its first frames show no one. People are
found independently of the run (YOLOX-nano on each input frame, down to a lower score than
the run keeps), so the check does not reuse what it checks.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from fastredact.cli import main
from fastredact.detect._yolox import PEOPLE_LONG_SIDE, YoloxCoco
from fastredact.run import read_manifest
from tests.support import shared_file

WIDTH, HEIGHT = 640, 480
EMPTY = 7
"""The clip's first frames show only the background: more than the 5 frames a track is
extended by, so the first two have no box at all and are hidden whole all the same."""
FRAMES = 11
PASTE_W, PASTE_H = 200, 272
STEP = 4
"""The portrait moves this many pixels right per frame."""


def _paste_at(i: int) -> tuple[int, int, int, int]:
    x0 = 150 + STEP * i
    return x0, 120, x0 + PASTE_W, 120 + PASTE_H


def _frames(shared_data: Path) -> list[np.ndarray]:
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    board = np.where(((xx // 16 + yy // 16) % 2)[:, :, None] == 1, [30, 160, 90], [220, 200, 40])
    portrait = Image.open(shared_file(shared_data, "redact-client/obama.jpeg")).convert("RGB")
    small = np.asarray(portrait.resize((PASTE_W, PASTE_H)))
    frames = []
    for i in range(FRAMES):
        frame = board.astype(np.uint8)
        if i >= EMPTY:
            x0, y0, x1, y1 = _paste_at(i)
            frame[y0:y1, x0:x1] = small
        frames.append(frame)
    return frames


def _write(frames: list[np.ndarray], path: Path) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10, options={"crf": "1", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv444p"
        for picture in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        out.mux(stream.encode(None))


def _decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


@pytest.mark.slow
@pytest.mark.parametrize("flags", [[], ["--verify-video"]])
def test_only_the_people_seen_on_a_frame_are_left(
    shared_data: Path, tmp_path: Path, flags: list[str]
) -> None:
    """With ``--verify-video`` too: the check looks for faces and plates in the written
    file, not for the people ``--background`` leaves (without ``--bodies``)."""
    frames = _frames(shared_data)
    (tmp_path / "in").mkdir()
    _write(frames, tmp_path / "in" / "scene.mp4")
    manifest = tmp_path / "m.jsonl"
    code = main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--manifest",
                 str(manifest), "--background", "fill", "--no-plates",
                 "--no-progress", *flags])  # fmt: skip
    assert code == 0
    (row,) = read_manifest(manifest)
    assert row["status"] == "ok", row
    out = _decoded(tmp_path / "out" / "scene.mp4")
    assert len(out) == FRAMES
    people = YoloxCoco(threshold=0.1, long_side=PEOPLE_LONG_SIDE)
    fill = np.median(out[0].reshape(-1, 3), axis=0)
    for i, (before, after) in enumerate(zip(frames, out, strict=True)):
        found = people.detect(before)
        boxes = found.boxes[np.array(found.labels) == "person"]
        assert (len(boxes) > 0) == (i >= EMPTY), (i, boxes)
        outside = np.ones((HEIGHT, WIDTH), bool)
        for x0, y0, x1, y1 in boxes:  # grown by 8 px: the codec blurs the kept box's edges
            outside[max(0, int(y0) - 8) : int(y1) + 9, max(0, int(x0) - 8) : int(x1) + 9] = False
        background = after[outside]
        near_fill = (np.abs(background - fill) <= 12).all(axis=1).mean()
        assert near_fill > 0.995, (i, near_fill)
        was = before.astype(np.int16)[outside]
        assert (np.abs(was - fill) > 40).any(axis=1).mean() > 0.4, "the pattern was not the fill"
        if i < EMPTY:
            continue
        x0, y0, x1, y1 = _paste_at(i)
        suit = (slice(y0 + PASTE_H * 3 // 4, y1 - 10), slice(x0 + 20, x1 - 20))
        assert np.abs(after[suit] - before[suit]).mean() < 6, "the person is left as it was"
        face = (slice(y0 + 20, y0 + PASTE_H // 2), slice(x0 + 50, x1 - 50))
        assert np.abs(after[face] - before[face]).mean() > 8, "the face is hidden on top"
