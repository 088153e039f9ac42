"""Motion-based pre-detection: still frames skip the detector, a local change does not."""

from __future__ import annotations

import numpy as np

from fastredact.video._motion import MotionGate, block_means


def frame() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)


def test_still_frames_are_skipped_and_a_corner_change_is_not() -> None:
    gate = MotionGate(threshold=3.0)
    base = frame()
    assert gate.needs_detection(base)
    assert not gate.needs_detection(base.copy())
    moved = base.copy()
    moved[:12, :12] = 255  # a face entering the top-left corner
    assert gate.needs_detection(moved)


def test_drift_is_measured_against_the_last_detected_frame() -> None:
    gate = MotionGate(threshold=3.0)
    base = frame().astype(np.int16)
    assert gate.needs_detection(base.astype(np.uint8))
    decisions = [
        gate.needs_detection(np.clip(base + 2 * k, 0, 255).astype(np.uint8)) for k in range(1, 4)
    ]
    assert decisions == [False, True, False]


def test_detector_runs_after_max_skip() -> None:
    gate = MotionGate(threshold=3.0, max_skip=4)
    still = frame()
    assert [gate.needs_detection(still) for _ in range(7)] == [
        True,
        False,
        False,
        False,
        False,
        True,
        False,
    ]


def test_block_means_of_tiny_frames() -> None:
    assert block_means(np.zeros((5, 7, 3), np.uint8)).shape == (5, 7)
