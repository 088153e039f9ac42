"""Unit tests of the detection building blocks against hand-computed values."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from fastredact.detect import (
    Detections,
    TiledDetector,
    decode_centerface,
    iou_matrix,
    letterbox,
    merge_passes,
    nms,
    plan_tiles,
)
from fastredact.detect._yolo import decode_yolo, normalize_label


def f32(rows: Sequence[Sequence[float]]) -> NDArray[np.float32]:
    return np.asarray(rows, np.float32)


def test_iou_matrix_hand_values() -> None:
    iou = iou_matrix(f32([[0, 0, 10, 10]]), f32([[5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30]]))
    assert iou == pytest.approx(np.array([[50 / 150, 1.0, 0.0]]))


def test_nms_suppresses_by_iou_and_keeps_score_order() -> None:
    boxes = f32([[1, 1, 11, 11], [0, 0, 10, 10], [20, 20, 30, 30]])
    scores = f32([0.8, 0.9, 0.7])
    # IoU of the first two: 81 / 119 = 0.68.
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.7).tolist() == [1, 0, 2]
    assert nms(f32([]).reshape(0, 4), f32([]), 0.5).tolist() == []


def test_merge_keeps_the_union_of_a_face_cut_by_a_tile_border() -> None:
    # The cut part scores higher; IoU 120 / 400 = 0.3 is below the merge IoU, but the part
    # lies inside the whole face, which is at most 4x its area: one box, the whole face.
    dets = Detections(f32([[0, 0, 6, 20], [0, 0, 20, 20]]), f32([0.9, 0.8]), ("face", "face"))
    merged = merge_passes(dets, iou_threshold=0.4)
    assert len(merged) == 1
    assert merged.boxes[0].tolist() == [0, 0, 20, 20]
    assert merged.scores[0] == pytest.approx(0.9)


def test_merge_leaves_a_much_larger_box_and_other_labels_alone() -> None:
    dets = Detections(
        f32([[10, 10, 20, 20], [0, 0, 100, 100], [10, 10, 20, 20]]),
        f32([0.9, 0.3, 0.5]),
        ("face", "face", "plate"),
    )
    merged = merge_passes(dets)
    assert sorted(map(tuple, merged.boxes.tolist())) == [
        (0, 0, 100, 100),
        (10, 10, 20, 20),
        (10, 10, 20, 20),
    ]
    assert sorted(merged.labels) == ["face", "face", "plate"]


def test_detections_validate_and_transform() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        Detections(f32([[0, 0, 1, 1]]), f32([]), ())
    lms = np.ones((1, 5, 2), np.float32)
    d = Detections(f32([[1, 2, 3, 4]]), f32([0.5]), ("face",), lms)
    t = d.transformed(2, 3, 10, 20)
    assert t.boxes.tolist() == [[12, 26, 16, 32]]
    assert t.landmarks is not None and t.landmarks[0, 0].tolist() == [12, 23]
    assert len(d.clipped(2, 3)) == 1 and d.clipped(2, 3).boxes.tolist() == [[1, 2, 2, 3]]
    assert len(d.clipped(1, 1)) == 0
    both = Detections.concat([d, Detections.empty(landmarks=5), t])
    assert len(both) == 2 and both.landmarks is not None


def test_decode_centerface_hand_computed() -> None:
    h = w = 8  # a 32 x 32 input
    heat = np.zeros((1, h, w), np.float32)
    scale = np.zeros((2, h, w), np.float32)
    offset = np.zeros((2, h, w), np.float32)
    lms = np.zeros((10, h, w), np.float32)
    heat[0, 2, 3] = 0.9
    scale[:, 2, 3] = [math.log(4), math.log(2)]  # height 16, width 8
    offset[:, 2, 3] = [0.25, 0.5]  # centre y (2 + .25 + .5) * 4 = 11, x (3 + .5 + .5) * 4 = 16
    lms[0:2, 2, 3] = [0.5, 0.25]  # landmark 0: y = 3 + .5 * 16, x = 12 + .25 * 8
    heat[0, 7, 7] = 0.2  # below the threshold
    heat[0, 0, 0] = 0.6  # centre (2, 2), size 4 x 4, clipped at the top-left corner
    scale[:, 0, 0] = [0.0, 0.0]
    offset[:, 0, 0] = [0.0, 0.0]
    d = decode_centerface(heat, scale, offset, lms, threshold=0.5, width=32, height=32)
    assert d.labels == ("face", "face")
    assert d.scores.tolist() == pytest.approx([0.9, 0.6])
    assert d.boxes.tolist() == [[12, 3, 20, 19], [0, 0, 4, 4]]
    assert d.landmarks is not None
    assert d.landmarks[0, 0].tolist() == [14, 11]
    assert (
        len(decode_centerface(heat, scale, offset, lms, threshold=0.95, width=32, height=32)) == 0
    )


def test_decode_yolo_hand_computed() -> None:
    out = np.array(
        [
            # cx, cy, w, h, score class 0, score class 1, one mask coefficient
            [50, 50, 20, 10, 0.9, 0.1, 0.3],
            [51, 50, 20, 10, 0.8, 0.1, 0.3],  # overlaps the first (IoU 0.9): suppressed
            [100, 100, 10, 10, 0.1, 0.6, 0.3],
            [10, 10, 4, 4, 0.2, 0.1, 0.3],  # below the threshold
        ],
        np.float32,
    ).T
    boxes, scores, classes = decode_yolo(out, num_classes=2, threshold=0.25)
    assert boxes.tolist() == [[40, 45, 60, 55], [95, 95, 105, 105]]
    assert scores.tolist() == pytest.approx([0.9, 0.6])
    assert classes.tolist() == [0, 1]


def test_letterbox_keeps_aspect_and_centres() -> None:
    image = np.full((100, 200, 3), 7, np.uint8)
    canvas, ratio, left, top = letterbox(image, (640, 640))
    assert (ratio, left, top) == (3.2, 0, 160)
    assert canvas.shape == (640, 640, 3)
    assert canvas[0, 0, 0] == 114 and canvas[160, 0, 0] == 7 and canvas[479, 639, 0] == 7
    assert canvas[480, 0, 0] == 114


def test_label_names_are_normalised() -> None:
    assert normalize_label("License-Plate") == "plate"
    assert normalize_label("person") == "person"


def test_plan_tiles_hand_values_and_coverage() -> None:
    # 1000 px at scale 2 with 640-px tiles: windows of at most 320 image px, 40 px shared.
    # Four windows are needed across ((1000 - 40) / (320 - 40) = 3.4), each shrunk to
    # ceil((1000 + 3 * 40) / 4) = 280 px; two down, of ceil((500 + 40) / 2) = 270 px.
    tiles = plan_tiles(1000, 500, scale=2.0, tile_size=640, overlap=40)
    assert sorted({t.x for t in tiles}) == [0, 240, 480, 720]
    assert sorted({t.y for t in tiles}) == [0, 230]
    assert all((t.w, t.h, t.scale_x, t.scale_y) == (280, 270, 2.0, 2.0) for t in tiles)
    small = plan_tiles(100, 50, scale=3.0, tile_size=640, overlap=10)
    assert [(t.x, t.y, t.w, t.h) for t in small] == [(0, 0, 100, 50)]
    with pytest.raises(ValueError):
        plan_tiles(100, 100, scale=1.0, tile_size=64, overlap=64)


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(1, 5000),
    height=st.integers(1, 5000),
    scale=st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0]),
    tile_size=st.integers(64, 2048),
    overlap_share=st.floats(0.0, 0.45),
    data=st.data(),
)
def test_plan_tiles_cover_the_image_and_every_small_box(
    width: int,
    height: int,
    scale: float,
    tile_size: int,
    overlap_share: float,
    data: st.DataObject,
) -> None:
    window = max(1, int(tile_size / scale))
    overlap = int(window * overlap_share)
    tiles = plan_tiles(width, height, scale=scale, tile_size=tile_size, overlap=overlap)
    # Inside the image, within the size limit, one shape per pass.
    assert all(t.x >= 0 and t.y >= 0 and t.x + t.w <= width and t.y + t.h <= height for t in tiles)
    assert all(t.w <= window and t.h <= window for t in tiles)
    assert len({(t.w, t.h) for t in tiles}) == 1

    # As few tiles as the overlap allows along each axis.
    def fewest(length: int) -> int:
        return 1 if length <= window else math.ceil((length - overlap) / (window - overlap))

    assert len(tiles) == fewest(width) * fewest(height)
    # Any box of at most `overlap` px (and any pixel) lies whole in some tile.
    bw = data.draw(st.integers(1, max(1, min(overlap, width))))
    bh = data.draw(st.integers(1, max(1, min(overlap, height))))
    x = data.draw(st.integers(0, width - bw))
    y = data.draw(st.integers(0, height - bh))
    assert any(t.x <= x and x + bw <= t.x + t.w and t.y <= y and y + bh <= t.y + t.h for t in tiles)


def test_pyramid_levels_reach_the_detector_band() -> None:
    det = TiledDetector(
        WhiteSquares(), full_size=None, tile_size=1024, level_factor=4.0, level_stop=512
    )
    # 3000 px short side: 750 at 1/4, then 1/16 would be 188 < 256: the last level is 256.
    assert det.level_scales(4000, 3000) == [1.0, 0.25, 256 / 3000]
    assert det.level_scales(1920, 1080) == [1.0, 0.25]  # 270 px short side
    assert det.level_scales(980, 720) == [1.0, 256 / 720]  # not 180 px: 256
    assert det.level_scales(640, 480) == [1.0]  # short side already inside the band
    tiles = det.plan(4000, 3000)
    native = [t for t in tiles if t.scale_x == 1.0]
    assert len(native) == 5 * 4  # (4000 - 128) / (1024 - 128) -> 5, (3000 - 128) / 896 -> 4
    assert [round(t.h * t.scale_y) for t in tiles if t.scale_x < 1] == [750, 256]
    no_pyramid = TiledDetector(WhiteSquares(), full_size=1280, tile_size=1280)
    assert no_pyramid.level_scales(4000, 3000) == [0.32]


class WhiteSquares:
    """A fake detector: every bright blob of at least 20 x 20 input pixels is a 'face'."""

    classes = ("face",)

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def detect_batch(self, images: Sequence[NDArray[np.uint8]]) -> list[Detections]:
        out = []
        for image in images:
            self.sizes.append(image.shape[:2])
            mask = (image[:, :, 0] > 128).astype(np.uint8)
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
            rows = [[x, y, x + w, y + h] for x, y, w, h, _ in stats[1:n] if w >= 20 and h >= 20]
            boxes = f32(rows).reshape(-1, 4)
            out.append(
                Detections(boxes, np.full(len(rows), 0.9, np.float32), ("face",) * len(rows))
            )
        return out


def test_tiles_find_what_the_full_frame_pass_misses() -> None:
    image = np.zeros((2160, 3840, 3), np.uint8)
    image[1000:1010, 2000:2010] = 255  # 10 px: 3 px in the full-frame pass, 30 px in 3x tiles
    image[100:200, 100:200] = 255  # 100 px: seen by the full-frame pass
    inner = WhiteSquares()
    full_only = TiledDetector(inner, full_size=1280, tile_scales=(), threshold=0.5)
    assert [b.tolist() for b in full_only.detect(image).boxes] == [
        pytest.approx([100, 100, 200, 200], abs=2)
    ]
    tiled = TiledDetector(inner, full_size=1280, tile_scales=(3.0,), threshold=0.5)
    found = tiled.detect(image)
    assert sorted(b.tolist() for b in found.boxes) == [
        pytest.approx([100, 100, 200, 200], abs=2),
        pytest.approx([2000, 1000, 2010, 1010], abs=1),
    ]
    assert max(max(size) for size in inner.sizes) <= 640  # no pass exceeds the tile size


def test_object_on_a_tile_border_is_one_whole_box() -> None:
    det = TiledDetector(
        WhiteSquares(), full_size=256, tile_scales=(1.0,), tile_size=256, overlap=64
    )
    tiles = det.plan(1000, 256)[1:]
    border = tiles[1].x  # the second tile starts inside the first
    image = np.zeros((256, 1000, 3), np.uint8)
    image[100:140, border - 10 : border + 30] = 255  # 40 px, cut by the border
    found = det.detect(image)
    assert len(found) == 1
    assert found.boxes[0].tolist() == pytest.approx([border - 10, 100, border + 30, 140], abs=1)


def test_thresholds_per_class_and_min_size() -> None:
    class Fixed:
        classes = ("face", "plate")

        def detect_batch(self, images: Sequence[NDArray[np.uint8]]) -> list[Detections]:
            return [
                Detections(
                    f32([[0, 0, 5, 5], [10, 10, 30, 30], [40, 40, 60, 50]]),
                    f32([0.6, 0.4, 0.2]),
                    ("face", "face", "plate"),
                )
                for _ in images
            ]

    image = np.zeros((64, 64, 3), np.uint8)
    det = TiledDetector(Fixed(), threshold=0.5, thresholds={"plate": 0.1})
    assert det.detect(image).labels == ("face", "plate")
    det = TiledDetector(Fixed(), threshold=0.3, thresholds={"plate": 0.1}, min_size=10)
    assert det.detect(image).boxes.tolist() == [[10, 10, 30, 30], [40, 40, 60, 50]]


def test_bad_images_are_rejected() -> None:
    det = TiledDetector(WhiteSquares())
    with pytest.raises(TypeError):
        det.detect(np.zeros((4, 4, 3), np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        det.detect(np.zeros((4, 4), np.uint8))
