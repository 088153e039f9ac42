"""Detection: faces and licence plates, multi-scale, fail-closed.

``load_detector(name_or_path)`` is the one entry point; the returned detector's
``detect(rgb_uint8_image)`` gives :class:`Detections` in that image's pixel coordinates (the
image must already be upright). Where each part lives:

- :mod:`~fastredact.detect._load`: ``load_detector``, the per-architecture defaults
  (:data:`DEFAULTS`), :class:`MultiDetector`, ``default_detector``;
- :mod:`~fastredact.detect._set`: the detector set a run uses and its hiding margin;
- :mod:`~fastredact.detect._tiling`: the pyramid of whole-frame passes and enlarged tiles;
- :mod:`~fastredact.detect._nms`: box overlap, the one NMS, the merge of passes;
- :mod:`~fastredact.detect._registry`: the registered models (files, SHA-256, licences);
- one module per architecture: ``_centerface``, ``_yunet``, ``_platenet``, ``_yolo``,
  ``_cascade``;
  ``_runtime`` creates the onnxruntime sessions; ``weights/`` holds the shipped weights.
"""

from __future__ import annotations

from fastredact.detect._base import Detections, Detector, check_rgb_image
from fastredact.detect._cascade import CascadeDetector
from fastredact.detect._centerface import CenterFace, decode_centerface
from fastredact.detect._ensemble import FaceEnsemble
from fastredact.detect._load import (
    CASCADE_MIN_NEIGHBORS,
    DEFAULT_FACE_MODEL,
    DEFAULT_PLATE_MODEL,
    DEFAULTS,
    FACE_ENSEMBLE,
    DetectorSpec,
    MultiDetector,
    default_detector,
    default_threshold,
    load_detector,
)
from fastredact.detect._nms import iou_matrix, merge_passes, nms
from fastredact.detect._registry import (
    MODELS,
    ModelInfo,
    ModelStatus,
    find_model,
    model_status,
    sha256_file,
)
from fastredact.detect._runtime import DEVICES, default_threads
from fastredact.detect._set import HIDE_THRESHOLD_FACTOR, DetectorSet
from fastredact.detect._tiling import PassDetector, TiledDetector, plan_tiles
from fastredact.detect._yolo import YoloDetector, letterbox
from fastredact.detect._yunet import YuNet, decode_yunet

__all__ = [
    "CASCADE_MIN_NEIGHBORS",
    "DEFAULTS",
    "DEFAULT_FACE_MODEL",
    "DEFAULT_PLATE_MODEL",
    "DEVICES",
    "FACE_ENSEMBLE",
    "HIDE_THRESHOLD_FACTOR",
    "MODELS",
    "CascadeDetector",
    "CenterFace",
    "Detections",
    "Detector",
    "DetectorSet",
    "DetectorSpec",
    "FaceEnsemble",
    "ModelInfo",
    "ModelStatus",
    "MultiDetector",
    "PassDetector",
    "TiledDetector",
    "YoloDetector",
    "YuNet",
    "check_rgb_image",
    "decode_centerface",
    "decode_yunet",
    "default_detector",
    "default_threads",
    "default_threshold",
    "find_model",
    "iou_matrix",
    "letterbox",
    "load_detector",
    "merge_passes",
    "model_status",
    "nms",
    "plan_tiles",
    "sha256_file",
]
