"""What a review looks at: one run of a manifest, each ``ok`` row with the output file it
stands for (under ``--outputs``) and, when ``--inputs`` are given, its original.

Nothing here takes a path from the page: an output or original is reached only through a
row of the manifest, by its index, and only when its SHA-256 is still the one the run
recorded (an output changed since the run is not what the run wrote; an original changed
since is not what a correction would be applied to).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastredact.errors import FastRedactError
from fastredact.run._manifest import manifest_runs
from fastredact.run._output_names import output_suffix
from fastredact.video import video_output_path

__all__ = ["ReviewFile", "ReviewRun", "load_review_run"]


@dataclass
class ReviewFile:
    """One ``ok`` row of the run: an input and the output it got."""

    path: str
    """The input's path relative to its root (the manifest's ``path``)."""
    row: dict[str, Any]
    output: Path | None
    """The output file, ``None`` when it is not under the output folder."""
    original: Path | None = None
    """The original under one of ``--inputs``, ``None`` when none was given or found."""
    _checked: dict[str, bool] = field(default_factory=dict)

    @property
    def is_video(self) -> bool:
        return self.row.get("video") is not None

    @property
    def input_sha256(self) -> str:
        return str(self.row.get("input_sha256") or "")

    def scenario(self) -> str:
        parts = Path(self.path).parts
        return parts[0] if len(parts) > 1 else "."

    def output_checked(self) -> Path:
        """The output, once its SHA-256 was found to be the one the run recorded."""
        return self._checked_file("output", self.output, str(self.row.get("output_sha256")))

    def original_checked(self) -> Path:
        """The original, once its SHA-256 was found to be the one the run recorded."""
        return self._checked_file("original", self.original, self.input_sha256)

    def _checked_file(self, what: str, path: Path | None, expected: str) -> Path:
        if path is None:
            raise FastRedactError(f"{self.path}: its {what} is not available to this review")
        if what not in self._checked:
            self._checked[what] = _sha256_file(path) == expected
        if not self._checked[what]:
            raise FastRedactError(
                f"{self.path}: its {what} changed since the run (SHA-256 differs from the "
                "manifest's); not shown"
            )
        return path


@dataclass
class ReviewRun:
    """The run under review: its record and its files (``ok`` rows, input order)."""

    manifest: Path
    record: dict[str, Any]
    files: list[ReviewFile]
    rows: int
    """Rows of the run in all (failed and skipped ones included)."""

    @property
    def fingerprint(self) -> str:
        return str(self.record.get("settings_fingerprint", ""))

    @property
    def thresholds(self) -> dict[str, float]:
        return {str(k): float(v) for k, v in (self.record.get("thresholds") or {}).items()}

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.record.get("settings") or {})


def load_review_run(
    manifest: Path,
    outputs: Path | None,
    inputs: list[Path],
    fingerprint: str | None = None,
) -> ReviewRun:
    """The run of ``manifest`` to review (the last, or the one whose settings fingerprint
    starts with ``fingerprint``), its outputs under ``outputs`` (default: the manifest's
    folder, when the run's outputs are there) and its originals under ``inputs``."""
    record, rows = manifest_runs(manifest, fingerprint)[-1]
    ok = [r for r in rows if r.get("status") == "ok" and isinstance(r.get("path"), str)]
    if not ok:
        raise FastRedactError(f"{manifest}: the run has no ok row to review")
    out_root = outputs if outputs is not None else _outputs_beside(manifest, ok)
    files = []
    for row in ok:
        path = str(row["path"])
        output = out_root / _output_name(row)
        original = next((root / path for root in inputs if (root / path).is_file()), None)
        files.append(ReviewFile(path, row, output if output.is_file() else None, original))
    if not any(f.output for f in files):
        raise FastRedactError(
            f"none of the run's outputs is under {out_root}: give the run's output folder "
            "with --outputs"
        )
    return ReviewRun(manifest, record, files, len(rows))


def _output_name(row: dict[str, Any]) -> Path:
    relative = Path(str(row["path"]))
    if row.get("video") is not None:
        return video_output_path(relative, str(row.get("format")))
    return output_suffix(relative, row.get("format"), row.get("output_format"))


def _outputs_beside(manifest: Path, rows: list[dict[str, Any]]) -> Path:
    folder = manifest.resolve().parent
    if any((folder / _output_name(r)).is_file() for r in rows[:50]):
        return folder
    raise FastRedactError(
        f"the run's outputs are not beside {manifest}: give the run's output folder with --outputs"
    )


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise FastRedactError(f"cannot read {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()
