"""The one exception hierarchy of fastredact.

Every failure fastredact reports on purpose is a :class:`FastRedactError`; errors raised by
the Rust core are mapped onto these classes (a Rust panic becomes :class:`InternalError`).
Wrong argument types and values from the caller raise the built-in ``TypeError`` /
``ValueError``, as Python users expect.
"""

from __future__ import annotations

__all__ = [
    "CorrectionMismatch",
    "CorrectionsError",
    "CorruptInput",
    "DetectorError",
    "FastRedactError",
    "InputUnreadable",
    "InternalError",
    "LabelError",
    "LimitExceeded",
    "MissingExtra",
    "ModelNotFound",
    "OutputCollision",
    "OutputUnwritable",
    "RayPlanError",
    "ResidualDetection",
    "UnsupportedFormat",
    "error_kind",
    "one_line",
]


class FastRedactError(Exception):
    """Base class of every error fastredact raises on purpose."""


class UnsupportedFormat(FastRedactError):
    """The input's format (sniffed from its content) is not one fastredact can process safely."""


class InputUnreadable(FastRedactError):
    """An input cannot be read at all: missing, no permission, a folder that cannot be
    listed, a symlink loop, or a symlinked folder (never followed)."""


class CorruptInput(FastRedactError):
    """The input claims a supported format but is malformed, truncated or fails to decode."""


class LimitExceeded(FastRedactError):
    """The input exceeds a configured limit (for example ``--max-pixels``)."""


class ModelNotFound(FastRedactError):
    """A model file is missing or fails its SHA-256 check; the message says what to run."""


class DetectorError(FastRedactError):
    """A detector failed to load or to run."""


class OutputCollision(FastRedactError):
    """Another input of the run already holds this input's output path (same name from two
    input folders, a format change, or names differing only in case on a filesystem that
    ignores case); nothing is written for this input."""


class OutputUnwritable(FastRedactError):
    """An output cannot be created or written (a folder that cannot be made, a full disk, no
    permission). For one file's output this is that file's failed row; for what the whole run
    writes (the output folder, the manifest, the mapping file) it stops the run."""


class ResidualDetection(FastRedactError):
    """A written output still shows a detection at the run's threshold after every allowed
    attempt to hide it (``--verify-video``); no output is kept."""


class LabelError(FastRedactError):
    """Labels given to ``fastredact eval truth`` or ``redact --annotations`` cannot be read
    or make no sense (a broken file, a box outside its image, an image the labels do not
    know); the message names the file and the cause."""


class MissingExtra(FastRedactError):
    """An optional feature needs packages that are not installed; the message names the
    extra that installs them (``pip install 'fastredact[reid]'``)."""


class RayPlanError(FastRedactError):
    """A Ray run cannot work as planned: its actors would hold every CPU (the job would
    hang), or Ray cannot be reached."""


class CorrectionsError(FastRedactError):
    """A corrections file (``fastredact review``'s, for ``redact --corrections``) cannot be
    read or holds a row that makes no sense; the message names the file, line and cause."""


class CorrectionMismatch(FastRedactError):
    """A correction names an input whose content changed since the review (another
    SHA-256), or an input that is not in the run: the input gets a failed row and no output,
    since what the reviewer saw is not what would be redacted."""


class InternalError(FastRedactError):
    """A bug inside fastredact (for example a panic in the Rust core). Please report it."""


def error_kind(exc: BaseException) -> str:
    """The kind of a per-file failure as the manifest records it (``error_kind``): the
    exception's class name (``"CorruptInput"``, ``"OSError"``, …)."""
    return type(exc).__name__


def one_line(cause: object) -> str:
    """``cause`` (an exception or a text) as one line: runs of whitespace become one space;
    an exception without a message gives its class name."""
    text = " ".join(str(cause).split())
    if not text and isinstance(cause, BaseException):
        return type(cause).__name__
    return text
