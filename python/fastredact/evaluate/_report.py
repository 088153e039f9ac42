"""What every ``fastredact eval`` writes: ``report.md`` (tables a person reads),
``report.json`` (the same numbers for a pipeline) and PNG plots (:mod:`._plots`, when
matplotlib is installed: ``pip install 'fastredact[eval]'``).

A report states what it measured (the data, the run's settings fingerprint, the models and
their SHA-256, the rule) and ends with the residual-risk figures a release needs.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastredact._atomic import write_atomically
from fastredact._core import __version__

__all__ = ["Report", "run_header", "share", "write_jsonl"]


def share(part: int | float | None, whole: int | float | None, digits: int = 3) -> str:
    """``part / whole`` as a fixed-point string, ``-`` when undefined."""
    if part is None or not whole:
        return "-"
    return f"{part / whole:.{digits}f}"


def run_header(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a report says about the run it measures: fingerprint, settings, models."""
    return {
        "settings_fingerprint": record.get("settings_fingerprint"),
        "run_started": record.get("started"),
        "fastredact_version_of_run": record.get("version"),
        "settings": record.get("settings") or {},
        "models": [
            {"name": m.get("name"), "sha256": m.get("sha256")} for m in record.get("models") or []
        ],
    }


@dataclass
class Report:
    """One report being put together: sections of Markdown, the JSON document, plots."""

    title: str
    command: str
    data: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    risk: list[str] = field(default_factory=list)
    """The closing residual-risk lines."""
    plots: list[str] = field(default_factory=list)
    plots_missing: str | None = None

    def heading(self, text: str, level: int = 2) -> None:
        self.lines += ["", "#" * level + " " + text, ""]

    def paragraph(self, text: str) -> None:
        self.lines += [text, ""]

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("|" + "|".join(" --- " for _ in header) + "|")
        for row in rows:
            self.lines.append("| " + " | ".join(str(c) for c in row) + " |")
        self.lines.append("")

    def runs(self, headers: Sequence[Mapping[str, Any]]) -> None:
        """The runs measured: fingerprint, the settings that matter, the models."""
        self.heading("Run")
        for header in headers:
            settings = header["settings"]
            shown = ", ".join(
                f"{k}={settings[k]}"
                for k in ("faces", "plates", "face_model", "plate_model", "threshold", "mode",
                          "strength", "shape", "mask_scale", "small_faces", "detect_every")
                if k in settings
            )  # fmt: skip
            self.paragraph(
                f"Settings fingerprint `{header['settings_fingerprint']}` "
                f"(started {header['run_started'] or '?'}, fastredact "
                f"{header['fastredact_version_of_run'] or '?'}): {shown}."
            )
            self.table(
                ("model", "SHA-256"),
                [(m["name"], f"`{m['sha256']}`") for m in header["models"]],
            )

    def write(self, folder: Path, plots: Any = None) -> list[Path]:
        """Write ``report.md``, ``report.json`` and the plots (``plots(folder)`` returns the
        files it drew, or raises ImportError without matplotlib) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        if plots is not None:
            try:
                drawn = plots(folder)
            except ImportError:
                self.plots_missing = (
                    "Plots were not drawn: matplotlib is not installed "
                    "(`pip install 'fastredact[eval]'`)."
                )
            else:
                self.plots = [p.name for p in drawn]
                written += drawn
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        document = {
            "title": self.title,
            "command": self.command,
            "written": stamp,
            "fastredact_version": __version__,
            **self.data,
            "plots": self.plots,
        }
        lines = [
            f"# {self.title}",
            "",
            f"Written {stamp} by fastredact {__version__}: `{self.command}`",
            *self.lines,
        ]
        if self.plots or self.plots_missing:
            lines += ["", "## Plots", ""]
            lines += [f"![{name}]({name})" for name in self.plots]
            lines += [self.plots_missing] if self.plots_missing else []
        lines += ["", "## Residual risk", "", *self.risk, ""]
        for name, text in (
            ("report.json", json.dumps(document, indent=1) + "\n"),
            ("report.md", "\n".join(lines).replace("\n\n\n", "\n\n")),
        ):
            write_atomically(folder / name, text.encode("utf-8"))
            written.append(folder / name)
        return written


def write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """``rows`` as JSON Lines at ``path``, atomically, readable by its owner only (rows may
    locate people in photos)."""
    text = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)
    write_atomically(path, text.encode("utf-8"), mode=0o600)
    return path
