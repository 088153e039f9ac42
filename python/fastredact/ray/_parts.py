"""A manifest folder at scale: the run records (``run-*.json``, one per run or resumed run)
and the rows as parquet parts (``rows/*.parquet``: the columns of
:data:`~fastredact.ray._actor.ROW_COLUMNS`). ``fastredact manifest cat DIR`` prints it as the
JSON Lines manifest every other command reads."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from fastredact._atomic import write_atomically
from fastredact.errors import FastRedactError, OutputUnwritable, one_line

__all__ = ["ManifestFolder"]

ROWS = "rows"


class ManifestFolder:
    """The folder ``path`` holding one Ray-engine manifest."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.torn: list[Path] = []
        """Parts that could not be read (a job killed while writing one): not committed."""

    def create(self) -> None:
        try:
            (self.path / ROWS).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputUnwritable(f"{self.path}: {exc.strerror or exc}") from None

    @property
    def rows_folder(self) -> Path:
        return self.path / ROWS

    def write_record(self, record: Mapping[str, Any]) -> Path:
        name = f"run-{str(record['started']).replace(':', '')}-{record['run_id']}.json"
        target = self.path / name
        try:
            write_atomically(target, (json.dumps(record) + "\n").encode())
        except OSError as exc:
            raise OutputUnwritable(f"{target}: {exc.strerror or exc}") from None
        return target

    def records(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted(self.path.glob("run-*.json")):
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise FastRedactError(f"{path}: not a run record ({one_line(exc)})") from None
        return sorted(out, key=lambda r: (str(r.get("started")), str(r.get("run_id"))))

    def write_rows(self, rows: Iterable[Mapping[str, Any]]) -> Path | None:
        """Rows the driver commits itself (inputs that failed while listing, inputs whose
        worker crashed), as one part written atomically."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from fastredact.ray._actor import ROW_COLUMNS

        rows = list(rows)
        if not rows:
            return None
        table = pa.table({c: [str(r[c]) for r in rows] for c in ROW_COLUMNS})
        target = self.rows_folder / f"driver-{uuid.uuid4().hex}.parquet"
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputUnwritable(f"{target}: {exc.strerror or exc}") from None
        return target

    def rows(self) -> Iterator[dict[str, str]]:
        """Every committed row (a part that cannot be read is skipped and listed in
        :attr:`torn`)."""
        import pyarrow.parquet as pq

        self.torn = []
        for part in sorted(self.rows_folder.glob("*.parquet")):
            try:
                table = pq.read_table(part)
            except Exception:  # a torn part: pyarrow raises ArrowInvalid / OSError
                self.torn.append(part)
                continue
            yield from table.to_pylist()

    def jsonl(self) -> Iterator[str]:
        """The manifest as JSON Lines: each run record, then the rows of that run."""
        by_run: dict[str, list[str]] = {}
        for row in self.rows():
            by_run.setdefault(str(row.get("run")), []).append(str(row["row"]))
        for record in self.records():
            yield json.dumps(record, separators=(",", ":"))
            yield from by_run.pop(str(record.get("run_id")), [])
        for rows in by_run.values():  # rows of a run whose record is missing
            yield from rows
