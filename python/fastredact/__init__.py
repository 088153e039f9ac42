"""fastredact: anonymize photo and video datasets fast, on-premise, failing closed.

The public API is re-exported here (this module holds nothing else); see the README for
usage and its module map for where each stage lives.
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
    CorrectionMismatch,
    CorrectionsError,
    CorruptInput,
    DetectorError,
    FastRedactError,
    InputUnreadable,
    InternalError,
    LabelError,
    LimitExceeded,
    MissingExtra,
    ModelNotFound,
    OutputCollision,
    OutputUnwritable,
    RayPlanError,
    ResidualDetection,
    UnsupportedFormat,
)
from fastredact.kernels import Region, redact
from fastredact.options import RedactOptions
from fastredact.run import FileResult, Redactor, read_manifest
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
    "CorrectionMismatch",
    "CorrectionsError",
    "CorruptInput",
    "Detections",
    "Detector",
    "DetectorError",
    "FastRedactError",
    "FileResult",
    "InputUnreadable",
    "InternalError",
    "LabelError",
    "LimitExceeded",
    "MissingExtra",
    "ModelNotFound",
    "MultiDetector",
    "OutputCollision",
    "OutputUnwritable",
    "RayPlanError",
    "RedactOptions",
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
    "read_manifest",
    "redact",
    "strip_file",
    "strip_files",
    "strip_metadata",
]
