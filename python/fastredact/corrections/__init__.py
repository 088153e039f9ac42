"""Reviewers' corrections: the file ``fastredact review`` writes and ``fastredact redact
--corrections`` applies (see :mod:`fastredact.corrections._file` for the format and
:mod:`fastredact.corrections._apply` for what applying means)."""

from fastredact.corrections._apply import (
    REMOVE_IOU,
    SCORE_TOLERANCE,
    CorrectionSet,
    InputCorrections,
)
from fastredact.corrections._file import (
    ACTIONS,
    APPLIED_ACTIONS,
    LABELS,
    TAGS,
    Correction,
    parse_correction,
    read_corrections,
    standing,
)

__all__ = [
    "ACTIONS",
    "APPLIED_ACTIONS",
    "LABELS",
    "REMOVE_IOU",
    "SCORE_TOLERANCE",
    "TAGS",
    "Correction",
    "CorrectionSet",
    "InputCorrections",
    "parse_correction",
    "read_corrections",
    "standing",
]
