"""The corrections file: JSON Lines, append-only, one row per reviewer action.

``fastredact review`` appends a row as the reviewer works (the page saves as it goes);
``fastredact redact --corrections`` reads the rows that still stand. A row::

    {"id": "c1a2…", "action": "add", "input": "street/a.jpg", "input_sha256": "…",
     "frame": 0, "box": [10.0, 20.0, 60.0, 90.0], "label": "face", "tag": "reflection",
     "span": 0, "reviewer": "ana", "time": "2026-12-07T10:00:00+00:00"}

Actions: ``add`` (a missed face / plate / other: always hidden), ``remove`` (a hidden box is
a false positive: ``score`` is the one the run gave it), ``view-original`` (the reviewer
looked at the original pixels inside a hidden box: an audit row, nothing to apply),
``accept`` (the picture was checked), and ``withdraw`` (``target`` names a row that no
longer stands; the file itself is never rewritten). Boxes are ``x0, y0, x1, y1`` in the
pixels the manifest uses (photos as displayed, videos as stored).
"""

from __future__ import annotations

import datetime
import json
import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args

from fastredact.errors import CorrectionsError

__all__ = [
    "ACTIONS",
    "APPLIED_ACTIONS",
    "LABELS",
    "TAGS",
    "Action",
    "Correction",
    "parse_correction",
    "read_corrections",
    "standing",
]

Action: TypeAlias = Literal["add", "remove", "view-original", "accept", "withdraw"]
ACTIONS: tuple[str, ...] = get_args(Action)
APPLIED_ACTIONS = ("add", "remove")
"""The actions ``redact --corrections`` applies; the others are the review's audit trail."""
LABELS = ("face", "plate", "other")
"""What a reviewer can say a missed region is."""
TAGS = ("reflection", "poster-or-screen", "mirrored-helmet", "painting", "crowd", "other")
"""The playbook of recurring edge cases a missed region is filed under."""

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Correction:
    """One row of a corrections file (see the module doc)."""

    id: str
    action: str
    input: str
    """The input's path relative to its input root, as the manifest's ``path``."""
    input_sha256: str
    reviewer: str
    time: str
    frame: int = 0
    box: tuple[float, float, float, float] | None = None
    label: str | None = None
    tag: str | None = None
    score: float | None = None
    """``remove``: the score the run gave the box (found again higher, it is hidden)."""
    span: int = 0
    """``add`` / ``remove`` on a video: frames either side the box applies to as well."""
    target: str | None = None
    """``withdraw``: the id of the row withdrawn."""

    @classmethod
    def new(
        cls, action: str, input: str, input_sha256: str, reviewer: str, **fields: Any
    ) -> Correction:
        """A row made now, with a fresh id (checked like a row read from a file)."""
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        row = {
            "id": secrets.token_hex(8),
            "action": action,
            "input": input,
            "input_sha256": input_sha256,
            "reviewer": reviewer,
            "time": now,
            **fields,
        }
        return parse_correction(row)

    def as_row(self) -> dict[str, Any]:
        """The JSON row (fields at their default left out)."""
        row = {k: v for k, v in asdict(self).items() if v is not None}
        if row.get("box") is not None:
            row["box"] = [round(float(v), 1) for v in row["box"]]
        for name in ("frame", "span"):
            if row.get(name) == 0:
                row.pop(name)
        return row

    @property
    def scenario(self) -> str:
        """The input's first folder (its scenario), ``.`` for a file at the root."""
        parts = Path(self.input).parts
        return parts[0] if len(parts) > 1 else "."


def parse_correction(row: Mapping[str, Any]) -> Correction:
    """A :class:`Correction` from a JSON object; ``ValueError`` naming what is wrong."""
    if not isinstance(row, Mapping):
        raise ValueError("not a JSON object")
    action = _text(row, "action")
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
    sha = _text(row, "input_sha256").lower()
    if len(sha) != 64 or not set(sha) <= _HEX:
        raise ValueError("input_sha256 must be 64 hex digits")
    fields: dict[str, Any] = {
        "id": _text(row, "id"),
        "action": action,
        "input": _text(row, "input"),
        "input_sha256": sha,
        "reviewer": _text(row, "reviewer", required=False) or "",
        "time": _text(row, "time", required=False) or "",
        "frame": _count(row, "frame"),
        "span": _count(row, "span"),
    }
    if action in ("add", "remove", "view-original"):
        fields["box"] = _box(row.get("box"))
        label = _text(row, "label")
        if action == "add" and label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
        fields["label"] = label
    if action == "add":
        tag = _text(row, "tag", required=False) or "other"
        if tag not in TAGS:
            raise ValueError(f"tag must be one of {', '.join(TAGS)}, got {tag!r}")
        fields["tag"] = tag
    if action == "remove":
        fields["score"] = _number(row.get("score"), "score")
    if action == "withdraw":
        fields["target"] = _text(row, "target")
    return Correction(**fields)


def read_corrections(path: Path) -> list[Correction]:
    """Every row of the corrections file at ``path``, in order. Strict: a line that is not
    JSON or not a valid row raises :class:`CorrectionsError` naming the file and line (a
    correction silently dropped would be a face left visible)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CorrectionsError(f"cannot read the corrections file {path}: {cause}") from None
    rows: list[Correction] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(parse_correction(json.loads(line)))
        except (json.JSONDecodeError, ValueError) as exc:
            raise CorrectionsError(f"{path}, line {number}: {exc}") from None
    return rows


def standing(rows: Iterable[Correction]) -> list[Correction]:
    """The rows that still stand: ``withdraw`` rows and the rows they withdraw left out."""
    rows = list(rows)
    withdrawn = {r.target for r in rows if r.action == "withdraw"}
    return [r for r in rows if r.action != "withdraw" and r.id not in withdrawn]


def _text(row: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = row.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _count(row: Mapping[str, Any], name: str) -> int:
    value = row.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0")
    return value


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    return float(value)


def _box(value: object) -> tuple[float, float, float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise ValueError("box must be [x0, y0, x1, y1]")
    x0, y0, x1, y1 = (_number(v, "box") for v in value)
    if not (x1 > x0 and y1 > y0):
        raise ValueError("box must have x1 > x0 and y1 > y0")
    return (x0, y0, x1, y1)
