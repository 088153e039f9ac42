"""QA against ground truth: what a run found and hid, against labels of its originals.

Match rules (stated in every report):

- **centre**: an object is *found* when a box of its label scoring at least the run's
  reporting threshold holds its centre, *hidden* when any box the run hid (any label, the
  hiding margin and the verification included) holds it;
- **IoU >= 0.5** (second column): boxes and objects of one label matched one to one, greedily
  by decreasing score.

A found (hidden) box holding no labelled centre of its label is false; precision is the
share of boxes that are not. Objects the labels flag as ignored (WIDER's invalid faces, VOC's
difficult, COCO's crowds) are never misses, and a box on them is not false. Photos only: a
video's manifest row counts its boxes, it does not list them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fastredact.detect import default_threshold
from fastredact.detect._nms import iou_matrix
from fastredact.errors import LabelError
from fastredact.evaluate._labels import EDGE_SLACK, LabelledObject, Truth

__all__ = ["HEIGHT_BINS", "MATCH_RULE", "Miss", "TruthReport", "evaluate_truth", "thresholds_of"]

HIDDEN_LABELS = frozenset(("face", "plate"))
"""The labels fastredact detects and hides."""
HEIGHT_BINS: tuple[tuple[str, float, float], ...] = (
    ("<10", 0, 10),
    ("10-16", 10, 16),
    ("16-32", 16, 32),
    ("32-64", 32, 64),
    ("64-128", 64, 128),
    (">128", 128, float("inf")),
)
MATCH_RULE = (
    "found: a box of the object's label scoring at least the run's reporting threshold holds "
    "the object's centre; hidden: any box the run hid holds it; IoU >= 0.5 columns: boxes and "
    "objects of one label matched one to one, greedily by decreasing score"
)


@dataclass
class Cell:
    """Counts for one label in one group (a height bin, a scenario, or everything)."""

    objects: int = 0
    found: int = 0
    hidden: int = 0
    found_iou: int = 0
    hidden_iou: int = 0

    def add(self, other: Cell) -> None:
        for name in ("objects", "found", "hidden", "found_iou", "hidden_iou"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        n = self.objects
        return {
            "objects": n,
            "found": self.found,
            "hidden": self.hidden,
            "recall_found": self.found / n if n else None,
            "recall_hidden": self.hidden / n if n else None,
            "recall_found_iou": self.found_iou / n if n else None,
            "recall_hidden_iou": self.hidden_iou / n if n else None,
        }


@dataclass(frozen=True)
class Miss:
    """A labelled object no hidden box holds the centre of."""

    path: str
    label: str
    box: tuple[float, float, float, float]
    height: float
    scenario: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "label": self.label,
            "box": [round(v, 1) for v in self.box],
            "height": round(self.height, 1),
            "scenario": self.scenario,
        }


@dataclass
class TruthReport:
    """Recall and precision per label, by height and by scenario, and the misses."""

    labels: list[str]
    thresholds: dict[str, float]
    overall: dict[str, Cell] = field(default_factory=dict)
    by_height: dict[str, dict[str, Cell]] = field(default_factory=dict)
    by_scenario: dict[str, dict[str, Cell]] = field(default_factory=dict)
    boxes_found: dict[str, int] = field(default_factory=dict)
    false_found: dict[str, int] = field(default_factory=dict)
    boxes_hidden: dict[str, int] = field(default_factory=dict)
    false_hidden: dict[str, int] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)
    photos: int = 0
    unlabelled: list[str] = field(default_factory=list)
    """Photos of the run the labels do not cover (not counted)."""
    not_in_run: int = 0
    """Labelled images the run has no ``ok`` photo row for."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "match_rule": MATCH_RULE,
            "thresholds": self.thresholds,
            "photos": self.photos,
            "unlabelled_photos": len(self.unlabelled),
            "labelled_images_not_in_run": self.not_in_run,
            "labels": {},
        }
        for label in self.labels:
            found_boxes, hidden_boxes = self.boxes_found[label], self.boxes_hidden[label]
            out["labels"][label] = {
                **self.overall[label].as_dict(),
                "boxes_found": found_boxes,
                "false_found": self.false_found[label],
                "precision_found": 1 - self.false_found[label] / found_boxes
                if found_boxes
                else None,
                "boxes_hidden": hidden_boxes,
                "false_hidden": self.false_hidden[label],
                "precision_hidden": (
                    1 - self.false_hidden[label] / hidden_boxes if hidden_boxes else None
                ),
                "false_found_per_photo": self.false_found[label] / self.photos
                if self.photos
                else None,
                "false_hidden_per_photo": (
                    self.false_hidden[label] / self.photos if self.photos else None
                ),
                "by_height": {b: c.as_dict() for b, c in self.by_height[label].items()},
                "by_scenario": {s: c.as_dict() for s, c in self.by_scenario[label].items()},
            }
        out["misses"] = [m.as_dict() for m in self.misses]
        return out


def thresholds_of(record: Mapping[str, Any]) -> dict[str, float]:
    """The reporting threshold of each label of a run: what its run record states, else
    what its settings imply (records written before thresholds were recorded)."""
    given = record.get("thresholds")
    if isinstance(given, dict) and given:
        return {str(k): float(v) for k, v in given.items()}
    settings = record.get("settings") or {}
    out = {}
    for label, model_key in (("face", "face_model"), ("plate", "plate_model")):
        own = settings.get(f"{label}_threshold", settings.get("threshold"))
        model = settings.get(model_key, "yunet+centerface" if label == "face" else "platenet")
        out[label] = float(own) if own is not None else default_threshold(str(model))
    return out


def _holding(boxes: np.ndarray, x: float, y: float) -> np.ndarray:
    if not len(boxes):
        return np.zeros(0, np.bool_)
    return (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])


def _iou_matches(
    boxes: np.ndarray, scores: np.ndarray, objects: Sequence[LabelledObject]
) -> set[int]:
    """Indices of ``objects`` matched one to one by a box at IoU >= 0.5, by decreasing score."""
    if not len(boxes) or not objects:
        return set()
    truth = np.array([o.box for o in objects], np.float64)
    iou = iou_matrix(boxes.astype(np.float64), truth)
    taken: set[int] = set()
    for i in np.argsort(-scores, kind="stable"):
        candidates = [j for j in np.argsort(-iou[i]) if iou[i, j] >= 0.5 and j not in taken]
        if candidates:
            taken.add(int(candidates[0]))
    return taken


def _bin(height: float) -> str:
    return next(name for name, lo, hi in HEIGHT_BINS if lo <= height < hi)


def scenario_of(path: str, scenarios: Mapping[str, str] | None) -> str:
    """The scenario of a row: ``scenarios`` by relative path, file name or leading folder
    (longest prefix first); else the input's top folder (``.`` when it has none)."""
    if scenarios:
        for key in (path, Path(path).name):
            if key in scenarios:
                return scenarios[key]
        for prefix in sorted(scenarios, key=len, reverse=True):
            if prefix.endswith("/") and path.startswith(prefix):
                return scenarios[prefix]
    parts = Path(path).parts
    return parts[0] if len(parts) > 1 else "."


def load_scenarios(path: Path) -> dict[str, str]:
    """A ``--scenarios`` file: a JSON object mapping relative paths, file names or folder
    prefixes (ending with ``/``) to scenario names."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LabelError(f"{path}: not a JSON scenario map ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise LabelError(f"{path}: a scenario map is a JSON object of path -> scenario name")
    return {str(k): v for k, v in data.items()}


def evaluate_truth(
    rows: Sequence[Mapping[str, Any]],
    truth: Truth,
    thresholds: Mapping[str, float],
    scenarios: Mapping[str, str] | None = None,
    *,
    allow_missing: bool = False,
) -> TruthReport:
    """Score the ``ok`` photo rows of one run (full form, :func:`fastredact.read_manifest`)
    against ``truth``. Raises :class:`LabelError` when a labelled box lies outside its photo
    as the run saw it, and (unless ``allow_missing``) when the labels name images the run
    did not redact."""
    # What fastredact can hide (a label the run did not look for scores 0, as it should);
    # other classes of the labels (vehicles, …) are not scored.
    labels = sorted(set(truth.labels) & (HIDDEN_LABELS | set(thresholds)))
    report = TruthReport(labels=labels, thresholds={k: float(v) for k, v in thresholds.items()})
    for label in labels:
        report.overall[label] = Cell()
        report.by_height[label] = {name: Cell() for name, _, _ in HEIGHT_BINS}
        report.by_scenario[label] = {}
        for counter in (
            report.boxes_found,
            report.false_found,
            report.boxes_hidden,
            report.false_hidden,
        ):
            counter[label] = 0
    seen: set[str] = set()
    for row in rows:
        if row.get("status") != "ok" or row.get("video") is not None:
            continue
        path = str(row.get("path"))
        objects = truth.lookup(path)
        if objects is None:
            report.unlabelled.append(path)
            continue
        _check_inside(truth.source, path, objects, row)
        seen.add(path)
        report.photos += 1
        _score_photo(report, path, row, objects, scenario_of(path, scenarios))
    labelled_keys = set(truth.objects)
    matched = {k for k in labelled_keys if any(k in (p, Path(p).name, Path(p).stem) for p in seen)}
    missing = sorted(labelled_keys - matched)
    report.not_in_run = len(missing)
    if missing and not allow_missing:
        raise LabelError(
            f"{truth.source}: labels name {len(missing)} image(s) the run did not redact "
            f"(first: {missing[0]}); --allow-missing scores only the images the run has"
        )
    return report


def _check_inside(
    source: str, path: str, objects: Sequence[LabelledObject], row: Mapping[str, Any]
) -> None:
    """Every labelled box lies on the photo (as displayed, as the run saw it)."""
    width, height = row.get("width"), row.get("height")
    if not isinstance(width, int) or not isinstance(height, int):
        return
    for obj in objects:
        x0, y0, x1, y1 = obj.box
        slack = EDGE_SLACK
        if x0 < -slack or y0 < -slack or x1 > width + slack or y1 > height + slack:
            box = [round(v, 1) for v in obj.box]
            raise LabelError(
                f"{source}: {path}: {obj.label} box {box} lies outside the {width}x{height} photo"
            )


def _score_photo(
    report: TruthReport,
    path: str,
    row: Mapping[str, Any],
    objects: Sequence[LabelledObject],
    scenario: str,
) -> None:
    detections = row.get("detections") or []
    all_boxes = np.array([d["box"] for d in detections], np.float64).reshape(-1, 4)
    for label in report.labels:
        centres = [o.centre for o in objects if o.label == label]
        mine = [d for d in detections if d["label"] == label]
        hidden = np.array([d["box"] for d in mine], np.float64).reshape(-1, 4)
        hidden_scores = np.array([d["score"] for d in mine], np.float64)
        keep = hidden_scores >= report.thresholds.get(label, 0.0)
        found, found_scores = hidden[keep], hidden_scores[keep]
        counted = [o for o in objects if o.label == label and not o.ignored]
        iou_found = _iou_matches(found, found_scores, counted)
        iou_hidden = _iou_matches(hidden, hidden_scores, counted)
        for index, obj in enumerate(counted):
            cell = Cell(objects=1)
            cell.found = int(_holding(found, *obj.centre).any())
            cell.hidden = int(_holding(all_boxes, *obj.centre).any())
            cell.found_iou = int(index in iou_found)
            cell.hidden_iou = int(index in iou_hidden)
            report.overall[label].add(cell)
            report.by_height[label][_bin(obj.height)].add(cell)
            report.by_scenario[label].setdefault(scenario, Cell()).add(cell)
            if not cell.hidden:
                report.misses.append(Miss(path, label, obj.box, obj.height, scenario))
        for boxes, total, false in (
            (found, report.boxes_found, report.false_found),
            (hidden, report.boxes_hidden, report.false_hidden),
        ):
            total[label] += len(boxes)
            false[label] += sum(
                1 for box in boxes if not any(_holding(box[None], x, y).any() for x, y in centres)
            )
