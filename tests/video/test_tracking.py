"""Temporal coverage: a miss never leaves a frame uncovered; memory stays bounded."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastredact.video._tracking import CoverageSettings, FrameBoxes, TemporalCoverage, iou_matrix


def box_at(i: int) -> list[float]:
    """A box moving 2 px per frame."""
    return [10.0 + 2 * i, 20.0, 40.0 + 2 * i, 50.0]


def run(detections: dict[int, list[list[float]] | None], n: int, **kw: object) -> list[FrameBoxes]:
    cov = TemporalCoverage(CoverageSettings(**kw))  # type: ignore[arg-type]
    out: list[FrameBoxes] = []
    for i in range(n):
        out += cov.push(i, detections.get(i, []))
    return out + cov.finish()


def covered(fb: FrameBoxes, truth: list[float]) -> bool:
    return len(fb.boxes) > 0 and float(iou_matrix(fb.boxes, [truth]).max()) > 0.5


def test_iou_matrix() -> None:
    iou = iou_matrix([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(iou, [[1.0, 50 / 150, 0.0]])
    assert iou_matrix(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_one_frame_miss_is_covered() -> None:
    dets = {i: [box_at(i)] for i in range(20) if i != 7}
    out = run(dets, 20)
    assert [fb.index for fb in out] == list(range(20))
    assert all(covered(fb, box_at(fb.index)) for fb in out)
    assert out[7].detected == 0 and out[6].detected == 1


def test_missed_frame_box_is_interpolated() -> None:
    dets = {i: [box_at(i)] for i in range(10) if i not in (4, 5)}
    out = run(dets, 10)
    np.testing.assert_allclose(out[4].boxes[0], box_at(4))
    np.testing.assert_allclose(out[5].boxes[0], box_at(5))


def test_track_is_extended_before_and_after() -> None:
    dets = {i: [box_at(10)] for i in range(10, 15)}
    out = run(dets, 30, extend=3, max_gap=4)
    has_box = [i for i, fb in enumerate(out) if len(fb.boxes)]
    assert has_box == list(range(7, 18))


def test_no_extension_no_gap_filling_shows_the_miss() -> None:
    """The same one-frame miss with coverage switched off: the frame is empty (so the
    coverage tests above can fail)."""
    dets = {i: [box_at(i)] for i in range(10) if i != 5}
    out = run(dets, 10, extend=0, max_gap=1)
    assert len(out[5].boxes) == 0


def test_long_gap_splits_the_track() -> None:
    dets = {0: [box_at(0)], 30: [box_at(0)]}
    cov = TemporalCoverage(CoverageSettings(extend=2, max_gap=5))
    out = []
    for i in range(40):
        out += cov.push(i, dets.get(i, []))
    out += cov.finish()
    assert cov.tracks_started == 2
    assert len(out[15].boxes) == 0
    assert len(out[2].boxes) == 1 and len(out[28].boxes) == 1


def test_labels_do_not_mix() -> None:
    cov = TemporalCoverage(CoverageSettings(extend=0, max_gap=2))
    cov.push(0, [box_at(0)], labels=["face"])
    cov.push(1, [box_at(1)], labels=["plate"])
    cov.finish()
    assert cov.tracks_started == 2


def test_each_box_carries_its_tracks_label() -> None:
    """A person and a face with an attachment: every frame's boxes come out with their
    track's label, the attachment with None, interpolated frames too."""
    person, face, chin = [0.0, 0.0, 50.0, 100.0], [10.0, 5.0, 30.0, 25.0], [12.0, 25.0, 28.0, 32.0]
    cov = TemporalCoverage(CoverageSettings(extend=1, max_gap=3))
    out: list[FrameBoxes] = []
    for i in range(6):
        seen = i != 2  # frame 2: detection did not run (interpolated)
        boxes, labels, parents = [person, face, chin], ["person", "face", "face"], [-1, -1, 1]
        out += cov.push(
            i, boxes if seen else None, labels if seen else None, parents if seen else None
        )
    out += cov.finish()
    assert [fb.index for fb in out] == list(range(6))
    for fb in out:
        # between two detections a track carries the attachments of both (here the same)
        assert fb.labels == ("person", "face", None) + ((None,) if fb.index == 2 else ())
        by_label = {label: box.tolist() for box, label in zip(fb.boxes, fb.labels, strict=True)}
        assert by_label == {"person": person, "face": face, None: chin}, fb


def test_two_objects_keep_their_own_tracks() -> None:
    a, b = [0.0, 0.0, 20.0, 20.0], [100.0, 0.0, 120.0, 20.0]
    cov = TemporalCoverage()
    for i in range(10):
        cov.push(i, [a, b] if i % 2 == 0 else [b])
    cov.finish()
    assert cov.tracks_started == 2


def test_frames_without_detection_run_are_bridged() -> None:
    """detect_every=N: frames where the detector did not run (None) are interpolated."""
    dets: dict[int, list[list[float]] | None] = {
        i: ([box_at(i)] if i % 4 == 0 else None) for i in range(17)
    }
    out = run(dets, 17, max_gap=8)
    assert all(covered(fb, box_at(fb.index)) for fb in out)
    assert [fb.detected for fb in out[:5]] == [1, 0, 0, 0, 1]


def test_lookahead_and_order() -> None:
    cov = TemporalCoverage(CoverageSettings(extend=2, max_gap=3))
    assert cov.lookahead == 3
    released = [cov.push(i, []) for i in range(5)]
    assert [len(r) for r in released] == [0, 0, 0, 1, 1]
    assert [fb.index for fb in cov.finish()] == [2, 3, 4]
    with pytest.raises(ValueError, match="in order"):
        cov.push(7, [])


def test_state_is_bounded_on_a_long_video() -> None:
    """Memory does not grow with length: pending frames ≤ lookahead, live tracks and
    their stored detections bounded, on 5000 frames with objects coming and going."""
    cov = TemporalCoverage(CoverageSettings(extend=5, max_gap=15))
    rng = np.random.default_rng(0)
    peak_pending = peak_tracks = peak_obs = 0
    for i in range(5000):
        boxes = [box_at(i % 50)] if rng.random() < 0.8 else []
        if i % 97 < 40:
            boxes.append([300.0, 300.0, 330.0, 330.0])
        cov.push(i, boxes)
        peak_pending = max(peak_pending, cov.pending_frames)
        peak_tracks = max(peak_tracks, cov.live_tracks)
        peak_obs = max(peak_obs, max((len(t.frames) for t in cov._tracks), default=0))
    cov.finish()
    assert peak_pending <= cov.lookahead + 1
    assert peak_tracks <= 6
    assert peak_obs <= cov.lookahead + 2
    assert cov.tracks_started > 50


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        CoverageSettings(max_gap=0)
    with pytest.raises(ValueError):
        CoverageSettings(extend=-1)
    with pytest.raises(ValueError):
        TemporalCoverage().push(0, [[0, 0, 1, 1]], labels=["a", "b"])


@settings(max_examples=60, deadline=None)
@given(
    misses=st.sets(st.integers(min_value=1, max_value=58), max_size=25),
    speed=st.integers(min_value=0, max_value=4),
)
def test_any_short_misses_are_covered(misses: set[int], speed: int) -> None:
    """Whatever the misses, as long as no run of misses is longer than max_gap - 1,
    every frame from the first to the last detection is covered."""
    misses = {m for m in misses if not all(m + k in misses for k in range(-2, 1))}

    def truth(i: int) -> list[float]:
        return [10.0 + speed * i, 10.0, 50.0 + speed * i, 50.0]

    dets = {i: [truth(i)] for i in range(60) if i not in misses}
    out = run(dets, 60, extend=2, max_gap=3)
    assert all(covered(fb, truth(fb.index)) for fb in out)


def test_boxes_beyond_a_tracks_detections_are_marked_extended() -> None:
    # Detected on frames 2 and 6 only (None: detection did not run), extended 2 frames.
    dets: dict[int, list[list[float]] | None] = {i: None for i in range(10)}
    dets[2], dets[6] = [box_at(2)], [box_at(6)]
    out = run(dets, 10, extend=2, max_gap=5)
    extended = {fb.index: fb.extended.tolist() for fb in out}
    assert extended == {
        0: [True],  # before the first detection
        1: [True],
        2: [False],
        3: [False],  # interpolated
        4: [False],
        5: [False],
        6: [False],
        7: [True],  # after the last detection
        8: [True],
        9: [],
    }
    assert all(len(fb.extended) == len(fb.boxes) for fb in out)


def run_attached(
    detections: dict[int, tuple[list[list[float]], list[int]] | None], n: int, **kw: object
) -> tuple[list[FrameBoxes], int]:
    """Like :func:`run`, each frame's boxes given with their parents; also the track count."""
    cov = TemporalCoverage(CoverageSettings(**kw))  # type: ignore[arg-type]
    out: list[FrameBoxes] = []
    for i in range(n):
        frame = detections.get(i)
        boxes, parents = frame if frame is not None else (None, None)
        out += cov.push(i, boxes, parents=parents)
    return out + cov.finish(), cov.tracks_started


def chin(face: list[float]) -> list[float]:
    """A box attached below ``face`` (what verification finds sticking out of the mask)."""
    x0, _, x1, y1 = face
    return [x0 + 5, y1 - 5, x1 - 5, y1 + 10]


def test_an_attachment_moves_with_its_detection_and_starts_no_track() -> None:
    # Detection runs every 4th frame; the attachment is found on frame 4 only.
    dets: dict[int, tuple[list[list[float]], list[int]] | None] = {i: None for i in range(13)}
    for i in (0, 4, 8, 12):
        dets[i] = ([box_at(i)], [-1])
    dets[4] = ([box_at(4), chin(box_at(4))], [-1, 0])
    out, tracks = run_attached(dets, 13, extend=2, max_gap=5)
    assert tracks == 1
    for fb in out:
        want = [box_at(fb.index)] + ([chin(box_at(fb.index))] if 1 <= fb.index <= 7 else [])
        np.testing.assert_allclose(fb.boxes, want, atol=1e-4, err_msg=f"frame {fb.index}")
        # Interpolated, not extended: frames between detections are never re-verified.
        assert not fb.extended.any()


def test_attachments_of_both_neighbouring_detections_apply() -> None:
    dets: dict[int, tuple[list[list[float]], list[int]] | None] = {i: None for i in range(9)}
    for i in (0, 4, 8):
        dets[i] = ([box_at(i), chin(box_at(i))], [-1, 0])
    out, _ = run_attached(dets, 9, extend=2, max_gap=5)
    for fb in out:
        own = fb.index % 4 == 0
        assert len(fb.boxes) == (2 if own else 3)  # the box, and each neighbour's attachment
        assert not fb.extended.any()


def test_attachments_of_an_extended_box_are_extended_too() -> None:
    dets: dict[int, tuple[list[list[float]], list[int]] | None] = {
        5: ([box_at(5), chin(box_at(5))], [-1, 0])
    }
    out, tracks = run_attached(dets, 10, extend=2, max_gap=3)
    assert tracks == 1
    for fb in out:
        assert len(fb.boxes) == (2 if 3 <= fb.index <= 7 else 0)
        assert fb.extended.tolist() == [fb.index != 5] * len(fb.boxes)
        if len(fb.boxes):
            np.testing.assert_allclose(fb.boxes[1], chin(box_at(5)), atol=1e-4)


def test_an_unattached_verification_box_keeps_its_own_track() -> None:
    far = [200.0, 200.0, 230.0, 230.0]
    dets: dict[int, tuple[list[list[float]], list[int]] | None] = {0: ([box_at(0), far], [-1, -1])}
    _, tracks = run_attached(dets, 3)
    assert tracks == 2


@pytest.mark.parametrize("parents", [[-1, 5], [-1, 1], [1, -1, 0], [-2, -1]], ids=str)
def test_bad_parents_are_refused(parents: list[int]) -> None:
    """Out of range, attached to itself, attached to an attachment, below -1."""
    boxes = [box_at(i) for i in range(len(parents))]
    with pytest.raises(ValueError, match="parent"):
        TemporalCoverage().push(0, boxes, parents=parents)
    with pytest.raises(ValueError, match="parents for"):
        TemporalCoverage().push(0, boxes, parents=[-1] * (len(parents) + 1))


@settings(max_examples=60, deadline=None)
@given(
    every=st.integers(min_value=1, max_value=6),
    found_on=st.sets(st.integers(min_value=0, max_value=36), max_size=6),
    speed=st.integers(min_value=-3, max_value=3),
)
def test_an_attachment_is_covered_on_its_own_frame(
    every: int, found_on: set[int], speed: int
) -> None:
    """Wherever attachments turn up, each is hidden, exactly where it was found, on the frame
    it was found on, and every frame keeps its detection's box."""

    def face(i: int) -> list[float]:
        return [100.0 + speed * i, 50.0, 140.0 + speed * i, 100.0]

    n = 6 * every + 1  # the last frame is a detection frame
    dets: dict[int, tuple[list[list[float]], list[int]] | None] = {}
    for i in range(n):
        if i % every:
            dets[i] = None
        elif i in found_on:
            dets[i] = ([face(i), chin(face(i))], [-1, 0])
        else:
            dets[i] = ([face(i)], [-1])
    out, tracks = run_attached(dets, n, extend=3, max_gap=every + 1)
    assert tracks == 1
    for fb in out:
        assert covered(fb, face(fb.index))
        if fb.index % every == 0 and fb.index in found_on:
            assert float(iou_matrix(fb.boxes, [chin(face(fb.index))]).max()) > 0.999
