"""The output check of a video (``check=`` / ``--verify-video``): the written file is decoded,
the check runs on every frame, and what it finds is hidden in a re-run, or the file fails."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from fastredact.errors import CorruptInput, ResidualDetection
from fastredact.video import CHECK_PASSES, VideoOptions, redact_video
from fastredact.video._check import residual_boxes
from fastredact.video._display import DisplayTransform
from fastredact.video._frames import ColourTags
from tests.support.videoclips import (
    BRIGHT,
    SQUARE,
    Dets,
    NullDetector,
    SquareDetector,
    fill_black,
    make_square_clip,
    read_video,
    square_position,
)

FAST = VideoOptions(preset="ultrafast")


class Always:
    """Finds the same box on every frame, whatever the pixels (a check that never passes)."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, rgb: NDArray[np.uint8]) -> Dets:
        self.calls += 1
        return Dets(np.array([[10, 10, 30, 30]], np.float32))


def first_frame(path: Path) -> av.VideoFrame:
    with av.open(str(path)) as container:
        return next(container.decode(video=0))


def bright_square_frames(path: Path) -> list[int]:
    pictures = read_video(path, keep_pictures=True).pictures
    shown = []
    for i, picture in enumerate(pictures):
        h, w = picture.shape[:2]
        x, y = square_position(i, w, h)
        if float(picture[y : y + SQUARE, x : x + SQUARE].mean()) > BRIGHT - 60:
            shown.append(i)
    return shown


def test_what_the_check_finds_is_hidden_in_a_rerun(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=10)
    assert bright_square_frames(src) == list(range(10))
    # The redaction's own detector misses frames 2-3 and 6-7 and no track covers them
    # (extend 0; gaps of one frame only are bridged), so only the check can catch them.
    detector = SquareDetector(miss=(2, 3, 6, 7))
    options = VideoOptions(preset="ultrafast", extend=0, max_gap=1)
    unchecked = redact_video(
        src, tmp_path / "plain.mp4", detector=detector, redact_frame=fill_black, options=options
    )
    assert unchecked.passes == 1
    assert bright_square_frames(tmp_path / "plain.mp4") == [2, 3, 6, 7]

    detector, check = SquareDetector(miss=(2, 3, 6, 7)), SquareDetector()
    result = redact_video(
        src,
        tmp_path / "out.mp4",
        detector=detector,
        redact_frame=fill_black,
        options=options,
        check=check,
    )
    assert bright_square_frames(tmp_path / "out.mp4") == []
    assert result.passes == 2
    assert result.boxes_added_by_check == 4
    assert detector.calls == 10  # the re-run replays the first run's detections
    # every frame of the first output; of the second, those that decode differently
    assert 10 + 4 <= check.calls <= 20
    assert result.frames_checked == check.calls
    assert result.frames == 10 and result.frames_detected == 10
    assert "check_s" in result.timings
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4", "plain.mp4"]


def test_a_clean_output_is_checked_once(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=6)
    check = SquareDetector()
    result = redact_video(
        src,
        tmp_path / "out.mp4",
        detector=SquareDetector(),
        redact_frame=fill_black,
        options=FAST,
        check=check,
    )
    assert result.passes == 1 and result.boxes_added_by_check == 0
    assert check.calls == 6


def test_a_check_that_never_passes_fails_closed(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=4)
    check = Always()
    with pytest.raises(ResidualDetection, match=r"4 frame\(s\) \(first: frame 0\)"):
        redact_video(
            src,
            tmp_path / "out.mp4",
            detector=NullDetector(),
            redact_frame=lambda rgb, boxes, extended: (
                None
            ),  # hides nothing (three arguments, as before labels)
            options=FAST,
            check=check,
        )
    assert check.calls == 4 * CHECK_PASSES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]  # no output, no temp file


def test_frames_identical_to_a_checked_output_are_not_checked_again(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=6)
    other = make_square_clip(tmp_path / "still.mp4", frames=6, still=True)
    check = SquareDetector()
    identity, tags = DisplayTransform(), ColourTags.of(first_frame(src))
    found, checked = residual_boxes(src, check, identity, tags)
    assert checked == 6 and sorted(found) == list(range(6))
    found, checked = residual_boxes(src, check, identity, tags, previous=src, recheck={4})
    assert checked == 1 and sorted(found) == [4]
    # a different earlier file: only its first frame (the square's start) is the same
    found, checked = residual_boxes(src, check, identity, tags, previous=other)
    assert checked == 5 and sorted(found) == [1, 2, 3, 4, 5]


def test_an_unreadable_input_creates_nothing_beside_the_destination(tmp_path: Path) -> None:
    src = tmp_path / "broken.mp4"
    src.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40)
    with pytest.raises(CorruptInput):
        redact_video(
            src,
            tmp_path / "sub" / "out.mp4",
            detector=NullDetector(),
            redact_frame=fill_black,
            options=FAST,
            check=SquareDetector(),
        )
    assert not (tmp_path / "sub").exists()  # no temporary file, not even its folder
