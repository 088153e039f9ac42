"""fastredact: anonymize photo and video datasets fast, on-premise, failing closed.

The public API is re-exported here; see the README for usage.
"""

from __future__ import annotations

from fastredact import errors
from fastredact._core import __version__
from fastredact.errors import (
    CorruptInput,
    DetectorError,
    FastRedactError,
    InternalError,
    LimitExceeded,
    ModelNotFound,
    UnsupportedFormat,
)
from fastredact.strip import (
    FileResult,
    RemovedItem,
    StripResult,
    strip_file,
    strip_files,
    strip_metadata,
)

__all__ = [
    "CorruptInput",
    "DetectorError",
    "FastRedactError",
    "FileResult",
    "InternalError",
    "LimitExceeded",
    "ModelNotFound",
    "RemovedItem",
    "StripResult",
    "UnsupportedFormat",
    "__version__",
    "errors",
    "strip_file",
    "strip_files",
    "strip_metadata",
]
