"""The Ray Data callable class: one detector set per actor, one input per call (a crashing
input takes down its own block only), outputs written by the actor itself, atomically,
under the name the driver planned; one manifest row per input."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fastredact.options import RedactOptions
from fastredact.run._file import process_file
from fastredact.run._inputs import InputFile

__all__ = ["ROW_COLUMNS", "RedactActor"]

ROW_COLUMNS = ("path", "status", "input_sha256", "settings_fingerprint", "run", "row")
"""The columns of a manifest part: the row's key fields, the run it belongs to (the run
record's ``started``) and the whole compact row as JSON (what ``manifest cat`` prints)."""


class _PlannedName:
    """Stands in for the run's output-name claims inside an actor: only the name the
    driver planned may be written (the driver made every claim already)."""

    def __init__(self, planned: str) -> None:
        self.planned = Path(planned) if planned else None

    def claim(self, output: Path, root: Path, source: Path) -> Path | None:
        if self.planned is not None and output == self.planned:
            return None
        return Path("(the name the plan gave it)") if self.planned else Path("(no name)")


class RedactActor:
    """``Dataset.map_batches(RedactActor, fn_constructor_kwargs={...})``: redacts each row's
    input (``source``, ``relative``, ``root``, ``output``) into ``out_root``."""

    def __init__(self, options: Mapping[str, Any], out_root: str, run: str,
                 fail_on: str = "") -> None:  # fmt: skip
        self.options = RedactOptions(**{**options, "workers": 1})
        from fastredact.detect import DetectorSet

        self.detectors = DetectorSet.load(self.options)  # one session per actor
        self.out_root = Path(out_root)
        self.run = run
        self.fingerprint = self.options.fingerprint()
        self.fail_on = fail_on
        """Test hook: an input whose relative path this is makes the process exit (a
        crashing decoder, as far as Ray can tell)."""

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, np.ndarray]:
        rows = [self._one(dict(zip(batch, values, strict=True))) for values in
                zip(*(batch[k] for k in batch), strict=True)]  # fmt: skip
        return {c: np.array([r[c] for r in rows], dtype=object) for c in ROW_COLUMNS}

    def _one(self, task: Mapping[str, Any]) -> dict[str, Any]:
        relative = str(task["relative"])
        if self.fail_on and relative == self.fail_on:
            os._exit(70)
        with self._local(str(task["source"]), relative, str(task["root"])) as (path, root):
            item = InputFile(path, Path(relative), root)
            dst = self.out_root / relative
            result = process_file(item, dst, self.options, self.detectors,
                                  names=_PlannedName(str(task["output"])))  # type: ignore[arg-type]  # fmt: skip
        row = {"settings_fingerprint": self.fingerprint, **result.manifest_row()}
        return {
            "path": result.path,
            "status": result.status,
            "input_sha256": result.input_sha256 or "",
            "settings_fingerprint": self.fingerprint,
            "run": self.run,
            "row": json.dumps(row, separators=(",", ":")),
        }

    @contextlib.contextmanager
    def _local(self, source: str, relative: str, root: str) -> Iterator[tuple[Path, Path]]:
        """The input as a local file (and its root): itself, or a temporary copy of a URI's
        bytes."""
        if "://" not in source:
            yield Path(source), Path(root)
            return
        import pyarrow.fs

        filesystem, remote = pyarrow.fs.FileSystem.from_uri(source)
        with tempfile.TemporaryDirectory(prefix="fastredact-ray-") as tmp:
            local = Path(tmp) / relative
            local.parent.mkdir(parents=True, exist_ok=True)
            with filesystem.open_input_stream(remote) as src, open(local, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            yield local, Path(tmp)
