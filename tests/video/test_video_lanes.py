"""One video on the run's idle workers: several frames detected at once, the same result.

A video job detects one frame on its own worker and one more per idle worker it can borrow
(:class:`fastredact._spare_cores.SpareCores`). These tests use a stand-in detector that
finds the bright square of a synthetic clip, sleeps a little (so detections overlap when they
can) and records how many ran at once; the frame redactor records what it was asked to hide
on each frame, which must not depend on the lanes.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from fastredact._spare_cores import SpareCores
from fastredact.video import VideoOptions, redact_video
from tests.support.videoclips import (
    BRIGHT,
    SQUARE,
    Dets,
    empty_dets,
    fill_black,
    make_square_clip,
    read_video,
    square_position,
)


class OverlapDetector:
    """Finds the bright square (stateless per frame) and records the most calls at once."""

    def __init__(
        self, fail_on_square_at: tuple[int, int] | None = None, miss: tuple[int, ...] = ()
    ) -> None:
        self.fail_on_square_at = fail_on_square_at
        self.missed = {square_position(i, 96, 64) for i in miss}
        """Where the square is on the frames of a 96x64 clip this detector misses."""
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()

    def detect(self, rgb: NDArray[np.uint8]) -> Dets:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(0.01)
            ys, xs = np.nonzero(rgb.min(axis=2) > 200)
            if len(xs) == 0:
                return empty_dets()
            if self.fail_on_square_at == (int(xs.min()) // 3, int(ys.min()) // 3):
                raise RuntimeError("detector crashed")
            if any(abs(x - xs.min()) <= 1 and abs(y - ys.min()) <= 1 for x, y in self.missed):
                return empty_dets()
            box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
            return Dets(box, np.ones(1, np.float32), np.zeros(1, np.int64))
        finally:
            with self.lock:
                self.running -= 1


def square_shown(picture: NDArray[np.uint8], i: int) -> bool:
    x, y = square_position(i, picture.shape[1], picture.shape[0])
    return bool(picture[y : y + SQUARE, x : x + SQUARE].mean() > BRIGHT - 60)


class HiddenPerFrame:
    """The frame redactor: paints boxes black and records them, frame by frame."""

    def __init__(self) -> None:
        self.frames: list[list[tuple[float, ...]]] = []

    def __call__(self, rgb: NDArray[np.uint8], boxes: NDArray[np.float32], *rest: object) -> None:
        self.frames.append([tuple(float(v) for v in box) for box in boxes])
        fill_black(rgb, boxes)


def run(
    src: Path, dst: Path, spare: SpareCores | None, **options: object
) -> tuple[OverlapDetector, HiddenPerFrame]:
    detector, hidden = OverlapDetector(), HiddenPerFrame()
    redact_video(
        src,
        dst,
        detector=detector,
        redact_frame=hidden,
        options=VideoOptions(**options),  # type: ignore[arg-type]
        spare_cores=spare,
    )
    return detector, hidden


@pytest.mark.parametrize("detect_every", [1, 3])
def test_idle_workers_detect_frames_at_once_with_the_same_result(
    tmp_path: Path, detect_every: int
) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=30)
    alone, hidden_alone = run(src, tmp_path / "alone.mp4", None, detect_every=detect_every)
    spare = SpareCores(3)
    lanes, hidden_lanes = run(src, tmp_path / "lanes.mp4", spare, detect_every=detect_every)
    assert alone.most == 1
    assert 2 <= lanes.most <= 3  # its own worker plus the two idle ones
    assert len(lanes.threads) >= 2
    assert hidden_lanes.frames == hidden_alone.frames
    assert len(hidden_lanes.frames) == 30 and all(hidden_lanes.frames)
    assert spare.idle == 3  # every loan given back
    written = read_video(tmp_path / "lanes.mp4", keep_pictures=True)
    before = read_video(tmp_path / "alone.mp4", keep_pictures=True)
    assert written.frames == 30 and written.pts_s == before.pts_s
    shown = [square_shown(picture, i) for i, picture in enumerate(written.pictures)]
    assert shown == [square_shown(picture, i) for i, picture in enumerate(before.pictures)]
    assert not any(shown[::detect_every])  # a detected frame never shows it


def test_no_loan_while_every_worker_has_a_file(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=12)
    spare = SpareCores(2)
    with spare.working(), spare.working():  # this video's worker and another's file
        detector, hidden = run(src, tmp_path / "out.mp4", spare)
    assert detector.most == 1
    assert len(hidden.frames) == 12
    assert spare.idle == 2


def test_a_lane_failure_leaves_nothing_and_returns_every_loan(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=30)
    spare = SpareCores(3)
    detector = OverlapDetector(fail_on_square_at=(31 // 3, 22 // 3))  # the square on frame 9
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="crashed"):
        redact_video(
            src,
            out / "out.mp4",
            detector=detector,
            redact_frame=fill_black,
            spare_cores=spare,
        )
    assert not out.exists() or list(out.iterdir()) == []
    assert spare.idle == 3


def test_the_output_check_runs_on_idle_workers_too(tmp_path: Path) -> None:
    """--verify-video: the written file's frames are checked several at once; what the check
    finds (frames the redaction's detector missed) is hidden in a re-run, as without lanes."""
    src = make_square_clip(tmp_path / "in.mp4", frames=20)
    options = VideoOptions(preset="ultrafast", extend=0, max_gap=1)
    spare = SpareCores(3)
    check = OverlapDetector()
    result = redact_video(
        src,
        tmp_path / "out.mp4",
        detector=OverlapDetector(miss=(2, 3, 6, 7)),
        redact_frame=fill_black,
        options=options,
        check=check,
        spare_cores=spare,
    )
    written = read_video(tmp_path / "out.mp4", keep_pictures=True)
    assert not any(square_shown(picture, i) for i, picture in enumerate(written.pictures))
    assert result.passes == 2 and result.boxes_added_by_check == 4
    assert 2 <= check.most <= 3
    assert spare.idle == 3


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4), st.lists(st.sampled_from(["work", "done", "borrow", "back"])))
def test_spare_cores_count_what_is_out(workers: int, steps: list[str]) -> None:
    """Idle = workers - files being worked on - loans, whatever the order; a worker never
    waits, a loan is refused when nothing is idle."""
    spare = SpareCores(workers)
    blocks, loans = [], 0
    for step in steps:
        if step == "work":
            block = spare.working()
            block.__enter__()
            blocks.append(block)
        elif step == "done" and blocks:
            blocks.pop().__exit__(None, None, None)
        elif step == "borrow":
            idle = spare.idle
            taken = spare.borrow()
            assert taken == (idle > 0)
            loans += taken
        elif step == "back" and loans:
            spare.give_back()
            loans -= 1
        assert spare.idle == workers - len(blocks) - loans
    for block in blocks:
        block.__exit__(None, None, None)
    for _ in range(loans):
        spare.give_back()
    assert spare.idle == workers


def test_spare_cores_need_a_worker() -> None:
    with pytest.raises(ValueError, match="workers"):
        SpareCores(0)
