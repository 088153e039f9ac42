"""``fastredact retention``: which runs' originals are past the date their profile (or
``--retention-days``) allows, and whether they were sealed or deleted since."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastredact.run._manifest import RUN_RECORD, iter_rows

__all__ = ["RunRetention", "runs_retention"]


@dataclass
class RunRetention:
    """One run of a manifest, as far as keeping its originals goes."""

    manifest: Path
    fingerprint: str
    started: str
    profile: str | None
    retention_until: str | None
    originals: int = 0
    sealed: int = 0
    """Seal records that followed the run in its manifest."""
    deleted: int = 0

    def due(self, today: datetime.date) -> bool:
        """Past its retention date and its originals not all deleted."""
        if self.retention_until is None:
            return False
        past = datetime.date.fromisoformat(self.retention_until) < today
        return past and self.deleted < self.originals

    def as_dict(self, today: datetime.date) -> dict[str, Any]:
        return {**{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(self).items()},
                "due": self.due(today)}  # fmt: skip


def runs_retention(manifests: Iterable[Path]) -> list[RunRetention]:
    """Every run of ``manifests`` with its retention date and what happened to its
    originals since (seal records appended by ``fastredact seal``)."""
    runs: list[RunRetention] = []
    for manifest in manifests:
        current: RunRetention | None = None
        for row in iter_rows(manifest):
            if row.get("record") == RUN_RECORD:
                profile = row.get("profile")
                current = RunRetention(
                    manifest=manifest,
                    fingerprint=str(row.get("settings_fingerprint")),
                    started=str(row.get("started", "")),
                    profile=profile.get("name") if isinstance(profile, dict) else None,
                    retention_until=row.get("retention_until"),
                )
                runs.append(current)
            elif row.get("record") == "seal":
                key = (row.get("settings_fingerprint"), row.get("run_started"))
                for run in runs:
                    if run.manifest == manifest and (run.fingerprint, run.started) == key:
                        run.sealed += 1
                        run.deleted += int(row.get("deleted", 0))
            elif current is not None and row.get("input_sha256"):
                current.originals += 1
    return runs
