"""Retention: seal a run's originals into an encrypted, verified archive (and only then,
when asked, delete them); list runs whose originals are past their retention date."""

from fastredact.retention._due import RunRetention, runs_retention
from fastredact.retention._seal import (
    SealResult,
    originals_of,
    read_archive,
    seal_originals,
    sha256_file,
)

__all__ = [
    "RunRetention",
    "SealResult",
    "originals_of",
    "read_archive",
    "runs_retention",
    "seal_originals",
    "sha256_file",
]
