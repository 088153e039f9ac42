"""fastredact: anonymize photo and video datasets fast, on-premise, failing closed.

The public API is re-exported here; see the README for usage.
"""

from __future__ import annotations

from fastredact import errors
from fastredact._core import __version__
from fastredact.detect import (
    CascadeDetector,
    CenterFace,
    Detections,
    Detector,
    MultiDetector,
    TiledDetector,
    YoloDetector,
    default_detector,
    load_detector,
    model_status,
)
from fastredact.errors import (
    CorruptInput,
    DetectorError,
    FastRedactError,
    InternalError,
    LimitExceeded,
    ModelNotFound,
    OutputCollision,
    OutputUnwritable,
    ResidualDetection,
    UnsupportedFormat,
)
from fastredact.pipeline import FileResult, Redactor
from fastredact.redact import redact
from fastredact.regions import Region
from fastredact.strip import (
    RemovedItem,
    StripFileResult,
    StripResult,
    strip_file,
    strip_files,
    strip_metadata,
)

__all__ = [
    "CascadeDetector",
    "CenterFace",
    "CorruptInput",
    "Detections",
    "Detector",
    "DetectorError",
    "FastRedactError",
    "FileResult",
    "InternalError",
    "LimitExceeded",
    "ModelNotFound",
    "MultiDetector",
    "OutputCollision",
    "OutputUnwritable",
    "Redactor",
    "Region",
    "RemovedItem",
    "ResidualDetection",
    "StripFileResult",
    "StripResult",
    "TiledDetector",
    "UnsupportedFormat",
    "YoloDetector",
    "__version__",
    "default_detector",
    "errors",
    "load_detector",
    "model_status",
    "redact",
    "strip_file",
    "strip_files",
    "strip_metadata",
]
