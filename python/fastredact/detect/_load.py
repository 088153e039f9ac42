"""Loading detectors: ``load_detector(name_or_path)`` is the one entry point; the returned
detector's ``detect(rgb_uint8_image)`` gives :class:`Detections` in that image's pixel
coordinates.
The image must already be upright (EXIF orientation applied): boxes are reported in the
frame the detector was given.

Defaults (see :data:`DEFAULTS`; chosen from the measurements in docs/detection.md):

- ``centerface`` (faces, the default): the native image (in tiles of at most 1024 px,
  overlapping by 128 px) plus whole-frame passes at 1/4, 1/16, … of it until one is at most
  512 px on its short side, never below 256 px (CenterFace finds faces from about 24 to
  about 500 of its input pixels, so every face size from 24 px to the whole frame falls in
  some pass, for 6-20 % more pixels than the native pass alone), plus 3x-enlarged tiles
  with ``small_faces`` (faces down to about 10 px);
  threshold 0.35 (the listed negatives peak at 0.23, faces of 10-12 px in a 4K frame score
  0.27-0.66 depending on where they fall, larger faces 0.7-0.95).
- ``platenet`` (plates, the default): the same pyramid with a factor of 2 (plates 8-120 px
  high at the network's scale, and its scores vary with a plate's size inside that band: a
  factor of 3 missed a tilted plate that only the 1/2 level scores over the threshold);
  threshold 0.45.
- ``haar-plate``: OpenCV's cascade on the native image plus 2x tiles (its window is
  60x20, so plates from about 10 px high are seen).
- any YOLOv8 ONNX file or ``platedet``: full frame letterboxed to the model's input plus
  native-resolution tiles on larger images; threshold 0.25.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastredact.detect._base import Detections, Detector
from fastredact.detect._cascade import CascadeDetector
from fastredact.detect._centerface import CenterFace
from fastredact.detect._ensemble import CONFIRM, FaceEnsemble
from fastredact.detect._platenet import PlateNet, PlateNetPass
from fastredact.detect._registry import MODELS, ModelInfo, find_model, sha256_file
from fastredact.detect._tiling import WINDOW_CONTEXT, WINDOW_SIZE, WINDOW_SIZES, TiledDetector
from fastredact.detect._yolo import YoloDetector
from fastredact.detect._yunet import YuNet
from fastredact.errors import DetectorError, ModelNotFound

__all__ = [
    "CASCADE_MIN_NEIGHBORS",
    "DEFAULTS",
    "DEFAULT_FACE_MODEL",
    "DEFAULT_PLATE_MODEL",
    "FACE_ENSEMBLE",
    "DetectorSpec",
    "MultiDetector",
    "default_detector",
    "default_threshold",
    "load_detector",
]


log = logging.getLogger("fastredact")

FACE_ENSEMBLE = "yunet+centerface"
DEFAULT_FACE_MODEL = FACE_ENSEMBLE
"""YuNet with CenterFace as a second opinion (:class:`FaceEnsemble`)."""
DEFAULT_PLATE_MODEL = "platenet"
CASCADE_MIN_NEIGHBORS = 2
"""Cascade votes needed per box: 2 finds more plates than OpenCV's usual 3 (recall 0.25 vs
0.19 on openimages-plates/valid) for 0.87 instead of 0.70 false boxes per image."""


@dataclass(frozen=True)
class DetectorSpec:
    """The multi-scale schedule and threshold of one architecture (see TiledDetector)."""

    full_size: int | None
    tile_scales: tuple[float, ...]
    tile_size: int
    overlap: int
    threshold: float
    level_factor: float | None = None
    level_stop: int = 512
    window_size: int = WINDOW_SIZE
    """Side of the smallest verification windows (see :meth:`TiledDetector.detect_windows`)."""
    window_sizes: int = WINDOW_SIZES
    """How many window sizes, doubling from ``window_size``."""


DEFAULTS: dict[str, DetectorSpec] = {
    "centerface": DetectorSpec(
        full_size=None,
        tile_scales=(1.0, 3.0),
        tile_size=1024,
        overlap=128,
        threshold=0.35,
        level_factor=4.0,
        level_stop=512,
    ),
    # YuNet-n: heads at strides 8-32 see faces from about 10 to about 700 px, so a shrunk
    # level is added only above 768 px on the short side. Tiles of up to 2048 px (a pass
    # takes ~250 MB): 23 ns/pixel against 32 with 1024-px tiles and their overlap.
    "yunet": DetectorSpec(
        full_size=None,
        tile_scales=(1.0,),
        tile_size=2048,
        overlap=128,
        threshold=0.35,
        level_factor=4.0,
        level_stop=768,
    ),
    "cascade": DetectorSpec(
        full_size=None, tile_scales=(2.0,), tile_size=1280, overlap=128, threshold=0.0
    ),
    # Trained on 416-px images with plates 8-120 px high (up to ~500 px wide): the native
    # image plus a pyramid by halves, tiles overlapping by 192 px; threshold 0.45 (see
    # training/plates/MODEL_CARD.md; halves against thirds: `benches/eval_plates.py --pyramids`).
    # Tiles of up to 2560 px (~0.5 GB a pass): 55 ns/pixel on a 12 MP photo against 70 with
    # 1280-px tiles and their overlap. Verification windows of 128 px: a plate a third of a
    # window wide is ~11 px high there.
    "platenet": DetectorSpec(
        full_size=None,
        tile_scales=(1.0,),
        tile_size=2560,
        overlap=192,
        threshold=0.45,
        level_factor=2.0,
        level_stop=512,
        window_size=128,
        window_sizes=2,
    ),
    # The ensemble's threshold: 0.46 reported, so that the hiding margin (0.7x) accepts
    # boxes from 0.32 (see _ensemble.py for the large ones; chosen on the crowd, masked-face
    # and portrait photos of benches/eval_faces.py, docs/detection.md).
    "ensemble": DetectorSpec(
        full_size=None, tile_scales=(1.0,), tile_size=1024, overlap=128, threshold=0.46
    ),
    "yolo": DetectorSpec(
        full_size=640, tile_scales=(1.0,), tile_size=640, overlap=128, threshold=0.25
    ),
}
"""The documented defaults per architecture; ``load_detector`` arguments override them."""


def _architecture_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return "cascade"
    if suffix != ".onnx":
        raise DetectorError(f"{path}: unknown model type (expected a .onnx or .xml file)")
    import onnx

    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:
        raise DetectorError(f"cannot read ONNX model {path}: {exc}") from exc
    channels = [
        d.dim_value if d.HasField("dim_value") else None
        for out in graph.output
        for d in list(out.type.tensor_type.shape.dim)[1:2]
    ]
    if {o.name for o in graph.output} >= {"cls_8", "obj_8", "bbox_8", "kps_8"}:
        return "yunet"
    return "centerface" if channels == [1, 2, 2, 10] else "yolo"


def _resolve(name_or_path: str | os.PathLike[str]) -> tuple[str, Path, ModelInfo | None]:
    """(architecture, verified file, registry entry or None)."""
    text = os.fspath(name_or_path)
    if text in MODELS:
        info = MODELS[text]
        path = find_model(text)
        if "GPL" in info.license and info.architecture != "yolo":  # YOLO logs its own
            log.warning("model %r is licensed %s", info.name, info.license)
        return info.architecture, path, info
    path = Path(text).expanduser()
    looks_like_path = os.sep in text or path.suffix.lower() in {".onnx", ".xml"}
    if not looks_like_path:
        known = ", ".join(sorted(MODELS))
        raise ValueError(f"unknown model {text!r}; known models: {known}, or a file path")
    if not path.is_file():
        raise ModelNotFound(f"model file {path} does not exist")
    return _architecture_of(path), path, None


def default_threshold(name_or_path: str | os.PathLike[str]) -> float:
    """The documented reporting threshold of a registered model or a model file (what
    :func:`load_detector` uses when given none), without creating a session."""
    text = os.fspath(name_or_path)
    if text == FACE_ENSEMBLE:
        return DEFAULTS["ensemble"].threshold
    architecture = MODELS[text].architecture if text in MODELS else _resolve(text)[0]
    return DEFAULTS[architecture].threshold


def load_detector(
    name_or_path: str | os.PathLike[str] = DEFAULT_FACE_MODEL,
    *,
    device: str = "cpu",
    threads: int | None = None,
    threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    min_size: float = 0.0,
    full_size: int | str | None = "default",
    tile_scales: Sequence[float] | None = None,
    tile_size: int | None = None,
    overlap: int | None = None,
    labels: Sequence[str] | None = None,
    sha256: str | None = None,
) -> TiledDetector | FaceEnsemble:
    """A ready multi-scale detector for a registered model name or a model file.

    ``name_or_path``: ``"centerface"`` (faces, default), ``"yunet"``,
    ``"yunet+centerface"`` (the two as one: :class:`FaceEnsemble`), ``"haar-plate"``,
    ``"haar-plate-16"``, ``"platedet"`` (see ``fastredact models``), or a path to a
    CenterFace / YOLOv8 ``.onnx`` or an OpenCV cascade ``.xml``. Registered models are
    SHA-256-verified; for a path, ``sha256`` verifies it when given.
    ``device``: ``"cpu"``, ``"cuda"``, ``"tensorrt"`` or ``"openvino"``; ``threads``:
    onnxruntime intra-op threads (``None``: all cores; with N worker processes use
    ``default_threads(N)``). ``threshold`` / per-label ``thresholds``, ``min_size`` (px,
    longer box side) and the tiling parameters override :data:`DEFAULTS`; ``labels``
    restricts a YOLO model's classes. A YOLO model without ``labels`` reports every class
    it has.

    Raises :class:`ModelNotFound` (missing file or wrong hash, with the command to run) or
    :class:`DetectorError` (unreadable model, missing execution provider).
    """
    if os.fspath(name_or_path) == FACE_ENSEMBLE:
        given = DEFAULTS["ensemble"].threshold if threshold is None else float(threshold)
        common: dict[str, Any] = {"device": device, "threads": threads}
        primary = _load_tiled("yunet", **common, threshold=given, tile_scales=tile_scales)
        second = _load_tiled(
            "centerface", **common, threshold=min(CONFIRM, given), tile_scales=(1.0,)
        )
        return FaceEnsemble(primary, second, threshold=given, min_size=min_size)
    return _load_tiled(
        name_or_path,
        device=device,
        threads=threads,
        threshold=threshold,
        thresholds=thresholds,
        min_size=min_size,
        full_size=full_size,
        tile_scales=tile_scales,
        tile_size=tile_size,
        overlap=overlap,
        labels=labels,
        sha256=sha256,
    )


def _load_tiled(
    name_or_path: str | os.PathLike[str] = DEFAULT_FACE_MODEL,
    *,
    device: str = "cpu",
    threads: int | None = None,
    threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    min_size: float = 0.0,
    full_size: int | str | None = "default",
    tile_scales: Sequence[float] | None = None,
    tile_size: int | None = None,
    overlap: int | None = None,
    labels: Sequence[str] | None = None,
    sha256: str | None = None,
) -> TiledDetector:
    """:func:`load_detector` for one model file (a registered name or a path)."""
    architecture, path, info = _resolve(name_or_path)
    if sha256 is not None and sha256_file(path) != sha256.lower():
        raise ModelNotFound(f"{path} has SHA-256 {sha256_file(path)}, expected {sha256.lower()}")
    spec = DEFAULTS[architecture]
    base = spec.threshold if threshold is None else float(threshold)
    floor = min([base, *(thresholds or {}).values()])
    inner: Any
    if architecture == "centerface":
        inner = CenterFace(path, device=device, threads=threads, threshold=floor)
    elif architecture == "yunet":
        inner = YuNet(path, device=device, threads=threads, threshold=floor)
    elif architecture == "platenet":
        if device != "cpu":
            raise DetectorError(f"the platenet model runs on the CPU only, not on {device!r}")
        net = PlateNet(path, sha256=None, threshold=floor, intra_op_num_threads=threads or 1)
        inner = PlateNetPass(net)  # the registry already verified its SHA-256
    elif architecture == "yolo":
        inner = YoloDetector(path, device=device, threads=threads, threshold=floor, labels=labels)
    else:
        if device != "cpu":
            raise DetectorError(f"OpenCV cascades run on the CPU only, not on {device!r}")
        inner = CascadeDetector(
            path, label=info.kind if info else "plate", min_neighbors=CASCADE_MIN_NEIGHBORS
        )
    size = spec.tile_size if tile_size is None else int(tile_size)
    if architecture == "yolo":
        size = int(inner.input_size)
    return TiledDetector(
        inner,
        full_size=spec.full_size if full_size == "default" else full_size,  # type: ignore[arg-type]
        tile_scales=spec.tile_scales if tile_scales is None else tuple(tile_scales),
        tile_size=size,
        overlap=spec.overlap if overlap is None else int(overlap),
        level_factor=spec.level_factor,
        level_stop=spec.level_stop,
        threshold=base,
        thresholds=thresholds,
        min_size=min_size,
        model=info.name if info else str(path),
        model_path=str(path),
        window_size=spec.window_size,
        window_sizes=spec.window_sizes,
    )


class MultiDetector:
    """Several detectors run on the same image, their detections concatenated."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        if not detectors:
            raise ValueError("MultiDetector needs at least one detector")
        self.detectors = tuple(detectors)
        self.classes: tuple[str, ...] = tuple(
            dict.fromkeys(c for d in self.detectors for c in d.classes)
        )

    def __repr__(self) -> str:
        return f"MultiDetector({list(self.detectors)!r})"

    def detect(self, image: Any) -> Detections:
        """Every detector's detections."""
        return Detections.concat(d.detect(image) for d in self.detectors)

    def detect_windows(self, image: Any, boxes: Any, context: float = WINDOW_CONTEXT) -> Detections:
        """Every detector's detections in square windows around ``boxes`` (see
        :meth:`TiledDetector.detect_windows`)."""
        return Detections.concat(
            d.detect_windows(image, boxes, context)  # type: ignore[attr-defined]
            for d in self.detectors
        )


def default_detector(
    *,
    faces: bool = True,
    plates: bool = True,
    face_model: str | os.PathLike[str] = DEFAULT_FACE_MODEL,
    plate_model: str | os.PathLike[str] = DEFAULT_PLATE_MODEL,
    device: str = "cpu",
    threads: int | None = None,
) -> MultiDetector:
    """Faces and plates with the documented defaults (fails closed if a model is missing)."""
    parts: list[Detector] = []
    if faces:
        parts.append(load_detector(face_model, device=device, threads=threads))
    if plates:
        plate_device = "cpu" if str(plate_model).endswith(".xml") else device
        if str(plate_model) in MODELS and MODELS[str(plate_model)].architecture == "cascade":
            plate_device = "cpu"
        parts.append(
            load_detector(plate_model, device=plate_device, threads=threads, labels=["plate"])
        )
    return MultiDetector(parts)
