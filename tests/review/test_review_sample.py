"""The review sample: every stratum represented, the size kept, the same sample for the
same seed, and the weighting actually drawing likely misses more often than chance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastredact.review import ReviewFile, ReviewRun, candidates, draw
from fastredact.review._sample import SMALL_SIDE, _quotas

THRESHOLDS = {"face": 0.46, "plate": 0.45}


def _photo(path: str, boxes: list[tuple[str, float, float]], fmt: str = "jpeg") -> ReviewFile:
    """A photo row with ``boxes`` as (label, score, side)."""
    detections = [
        {"label": label, "box": [10.0, 10.0, 10.0 + side, 10.0 + side], "score": score, "frame": 0}
        for label, score, side in boxes
    ]
    row = {"path": path, "status": "ok", "format": fmt, "detections": detections, "frames": 1}
    return ReviewFile(path, row, Path("/dev/null"))


def _video(path: str, frames: int, listed: list[dict[str, Any]] | None) -> ReviewFile:
    detections = listed if listed is not None else [{"label": "face", "boxes": 12}]
    row = {"path": path, "status": "ok", "format": "mp4", "frames": frames,
           "video": {"codec": "h264"}, "detections": detections}  # fmt: skip
    return ReviewFile(path, row, Path("/dev/null"))


def _run(files: list[ReviewFile], detect_every: int = 1) -> ReviewRun:
    record = {"settings_fingerprint": "f", "thresholds": THRESHOLDS,
              "settings": {"detect_every": detect_every}}  # fmt: skip
    return ReviewRun(Path("m.jsonl"), record, files, len(files))


@given(
    sizes=st.dictionaries(
        st.text("abc", min_size=1, max_size=3), st.integers(1, 40), min_size=1, max_size=8
    ),
    size=st.integers(1, 200),
)
def test_quotas_keep_the_size_and_give_every_stratum_its_share(
    sizes: dict[str, int], size: int
) -> None:
    quota = _quotas(sizes, size)
    total = sum(sizes.values())
    assert sum(quota.values()) == min(size, total)
    assert all(0 <= quota[k] <= sizes[k] for k in sizes)
    if size >= len(sizes):
        assert all(quota[k] >= 1 for k in sizes)
    if size < total:  # proportional, within one item plus the minimum of one
        for k, n in sizes.items():
            assert quota[k] <= size * n / total + 2


def test_reasons_are_read_off_the_manifest() -> None:
    files = [
        _photo("a/near.jpg", [("face", 0.50, 40)]),
        _photo("a/crowd.jpg", [("face", 0.9, SMALL_SIDE - 1)] * 3),
        _photo("a/clear.jpg", [("face", 0.95, 80)]),
        _photo("a/empty.jpg", []),
        _photo("a/other.jpg", [("plate", 0.9, 30)]),
        _photo("b/empty.png", [], fmt="png"),
    ]
    items = {i.path: i for i in candidates(_run(files))}
    assert items["a/near.jpg"].reasons == ["near-threshold"]
    assert items["a/crowd.jpg"].reasons == ["small-boxes"]
    assert items["a/clear.jpg"].reasons == []
    assert items["a/empty.jpg"].reasons == ["none-where-peers-have"]
    assert items["b/empty.png"].reasons == [], "its stratum is too small to judge"
    assert items["a/near.jpg"].boxes[0]["state"] == "found"
    assert _photo_margin_state() == "margin"


def _photo_margin_state() -> str:
    items = candidates(_run([_photo("x.jpg", [("face", 0.3, 40)])]))
    return str(items[0].boxes[0]["state"])


def test_video_frames_fall_between_detections_and_near_the_threshold() -> None:
    listed = [
        {"label": "face", "box": [0.0, 0.0, 30.0, 30.0], "score": 0.48, "frame": 40},
        {"label": "face", "box": [0.0, 0.0, 30.0, 30.0], "score": 0.9, "frame": 80},
    ]
    items = candidates(_run([_video("v.mp4", 120, listed)], detect_every=5))
    frames = {i.frame: i for i in items}
    assert 40 in frames and "near-threshold" in frames[40].reasons
    between = [i for i in items if "between-detections" in i.reasons]
    assert len(between) == 6 and all(i.frame % 5 == 2 for i in between)
    unlisted = candidates(_run([_video("w.mp4", 60, None)]))
    assert unlisted and all("boxes-not-listed" in i.reasons for i in unlisted)
    assert not any(i.boxes_known for i in unlisted)


def test_the_same_seed_draws_the_same_sample() -> None:
    files = [_photo(f"s{k % 3}/p{k}.jpg", [("face", 0.3 + k % 7 / 10, 30)]) for k in range(60)]
    run = _run(files)
    first = draw(candidates(run), 12, 7, run)
    again = draw(candidates(run), 12, 7, run)
    other = draw(candidates(run), 12, 8, run)
    assert [(i.path, i.frame) for i in first.items] == [(i.path, i.frame) for i in again.items]
    assert [i.path for i in first.items] != [i.path for i in other.items]
    assert {i.stratum for i in first.items} == {"s0 · jpeg", "s1 · jpeg", "s2 · jpeg"}
    assert first.how["drawn"] == 12 and first.how["candidates"] == 60


@pytest.mark.parametrize("reason_files", [10])
def test_the_weights_draw_likely_misses_more_often(reason_files: int) -> None:
    files = [_photo(f"p{k}.jpg", [("face", 0.95, 60)]) for k in range(90)]
    files += [_photo(f"n{k}.jpg", [("face", 0.47, 60)]) for k in range(reason_files)]
    run = _run(files)
    items = candidates(run)
    drawn = sum(
        sum(i.path.startswith("n") for i in draw(items, 10, seed, run).items) for seed in range(200)
    )
    share = drawn / (200 * 10)
    chance = reason_files / len(files)
    assert share > 2.5 * chance, (share, chance)
